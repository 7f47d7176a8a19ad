"""Sending deliveries: claim (conditional UPDATE), POST, log, then delivered or retry with backoff."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db.models import F, Q

from .models import Attempt, Delivery
from .signing import signature

# Waits after the 1st, 2nd, … failed attempt: a receiver that is down for an hour is
# retried about nine times; after two days we give up and the log shows "failed" with a retry button.
BACKOFF = tuple(dt.timedelta(minutes=m) for m in (0.5, 1, 2, 5, 10, 20, 40, 60, 120, 240, 480, 720, 1440))
MAX_ATTEMPTS = len(BACKOFF) + 1
# A worker that died mid-send leaves "sending" behind; after this long the delivery is retried.
STUCK_AFTER = dt.timedelta(minutes=5)
BATCH = 200


def timeout_seconds() -> float:
    return float(getattr(settings, "LBSUP_WEBHOOK_TIMEOUT_SECONDS", 10))


def body_of(delivery) -> bytes:
    """The exact bytes sent: the same on every retry and replay, so the idempotency key means something."""
    envelope = {"id": delivery.idempotency_key, "type": delivery.event_type, "workspace": delivery.workspace.slug,
                "created_at": delivery.created_at.isoformat(), "data": delivery.payload}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def backoff_after(attempts: int) -> dt.timedelta | None:
    """The wait after `attempts` failed tries, or None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return BACKOFF[attempts - 1]


def attempt(delivery_pk: int, now: dt.datetime) -> Delivery | None:
    """Try one delivery if it is due and nobody else holds it. Returns it, or None if not claimed."""
    claimed = Delivery.objects.filter(pk=delivery_pk, state=Delivery.State.PENDING, next_attempt_at__lte=now).update(
        state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("endpoint", "workspace").get(pk=delivery_pk)
    status, error, excerpt, seconds = _post(delivery)
    Attempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, status=status, error=error[:500],
                           response_excerpt=excerpt[:500], seconds=seconds)
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
            state=Delivery.State.DELIVERED, delivered_at=now, last_status=status, last_error="", next_attempt_at=None)
    else:
        wait = backoff_after(delivery.attempts)
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
            state=Delivery.State.PENDING if wait else Delivery.State.FAILED,
            next_attempt_at=now + wait if wait else None, last_status=status,
            last_error=(error or f"HTTP {status}")[:500])
    delivery.refresh_from_db()
    return delivery


def _post(delivery) -> tuple[int | None, str, str, float]:
    body = body_of(delivery)
    timestamp = int(time.time())  # the consumer compares it with its own clock
    request = urllib.request.Request(delivery.endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "lbsup-webhooks/1",
        "X-Lbsup-Event": delivery.event_type,
        "X-Lbsup-Delivery": delivery.idempotency_key,
        "Idempotency-Key": delivery.idempotency_key,
        "X-Lbsup-Timestamp": str(timestamp),
        "X-Lbsup-Signature": signature(delivery.endpoint.secret, timestamp, body),
    })
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds()) as response:
            excerpt = response.read(500).decode("utf-8", "replace")
            return response.status, "", excerpt, time.monotonic() - started
    except urllib.error.HTTPError as error:
        excerpt = error.read(500).decode("utf-8", "replace") if error.fp else ""
        return error.code, f"HTTP {error.code}", excerpt, time.monotonic() - started
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(reason).__name__}: {reason}"[:500], "", time.monotonic() - started


def deliver_due(now: dt.datetime) -> list[Delivery]:
    """Everything due now, plus sends a dead worker left behind."""
    Delivery.objects.filter(state=Delivery.State.SENDING, claimed_at__lte=now - STUCK_AFTER).update(
        state=Delivery.State.PENDING, next_attempt_at=now, last_error="the worker stopped mid-send; retried")
    due = Delivery.objects.filter(Q(state=Delivery.State.PENDING) & Q(next_attempt_at__lte=now)).order_by(
        "next_attempt_at").values_list("pk", flat=True)[:BATCH]
    done = []
    for pk in list(due):
        result = attempt(pk, now)
        if result is not None:
            done.append(result)
    return done
