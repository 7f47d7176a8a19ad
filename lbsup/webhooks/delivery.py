"""Sending deliveries: claim (conditional UPDATE), check the address, POST, log, then delivered or retry with backoff."""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.parse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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


class Refused(ValueError):
    """The URL names, or its host resolves to, an address lbsup does not post to."""


def _allowed_networks():
    try:
        return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "LBSUP_WEBHOOK_ALLOW_NETWORKS", ())]
    except ValueError as error:
        raise ImproperlyConfigured(f"LBSUP_WEBHOOK_ALLOW_NETWORKS: {error}") from None


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        # ::ffff:127.0.0.1 and 2002:7f00:1:: reach the IPv4 address inside them.
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    if ip.is_unspecified or ip.is_multicast:
        return True
    if any(ip in network for network in _allowed_networks()):
        return False
    # is_reserved as well: Python counts IPv4-compatible and NAT64 IPv6 (::/8) as global.
    return not ip.is_global or ip.is_reserved


def checked_address(url: str) -> tuple[urllib.parse.SplitResult, int, str]:
    """(parts, port, address): the URL parsed once, and the address to connect to, after every address
    its host resolves to was checked. Raises Refused, or OSError when the name does not resolve."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(f"{url!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{url!r} is not an http(s) URL")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise Refused(f"{parts.hostname!r} is not a valid host name") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        if _forbidden(address):
            raise Refused(f"{parts.hostname} is {address}, a loopback, private, link-local, multicast or reserved "
                          "address: lbsup does not post there (LBSUP_WEBHOOK_ALLOW_NETWORKS lists allowed private "
                          "networks)")
    return parts, port, addresses[0]


class _Pinned:
    """Connects to the checked address, so a second DNS answer (rebinding) cannot switch it;
    the Host header, SNI and the certificate check still use the URL's host name."""

    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        # The hook http.client opens its socket through, in both HTTPConnection and HTTPSConnection.
        self._create_connection = lambda _, *args: socket.create_connection((address, port), *args)


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def attempt(delivery_pk: int, now: dt.datetime) -> Delivery | None:
    """Try one delivery if it is due and nobody else holds it. Returns it, or None if not claimed."""
    claimed = Delivery.objects.filter(pk=delivery_pk, state=Delivery.State.PENDING, next_attempt_at__lte=now).update(
        state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("endpoint", "workspace").get(pk=delivery_pk)
    status, error, seconds, final = _post(delivery)
    Attempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, status=status, error=error[:500],
                           seconds=seconds)
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
            state=Delivery.State.DELIVERED, delivered_at=now, last_status=status, last_error="", next_attempt_at=None)
    else:
        wait = None if final else backoff_after(delivery.attempts)
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
            state=Delivery.State.PENDING if wait else Delivery.State.FAILED,
            next_attempt_at=now + wait if wait else None, last_status=status,
            last_error=(error or f"HTTP {status}")[:500])
    delivery.refresh_from_db()
    return delivery


def _post(delivery) -> tuple[int | None, str, float, bool]:
    """(status, error, seconds, final). Only the status and the timing are kept: the response body
    could be a page of the receiver's network, read on an attacker's behalf. `final`: trying again
    cannot help until a person changes the endpoint (a refused address, a redirect)."""
    started = time.monotonic()
    try:
        parts, port, address = checked_address(delivery.endpoint.url)
    except Refused as error:
        return None, f"refused: {error}", 0.0, True
    except OSError as error:  # the name does not resolve, perhaps not yet
        return None, f"{type(error).__name__}: {error}", time.monotonic() - started, False
    body = body_of(delivery)
    timestamp = int(time.time())  # the consumer compares it with its own clock
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "lbsup-webhooks/1",
        "X-Lbsup-Event": delivery.event_type,
        "X-Lbsup-Delivery": delivery.idempotency_key,
        "Idempotency-Key": delivery.idempotency_key,
        "X-Lbsup-Timestamp": str(timestamp),
        "X-Lbsup-Signature": signature(delivery.endpoint.secret, timestamp, body),
    }
    if parts.scheme == "https":
        connection = _PinnedHTTPS(parts.hostname, port, address=address, timeout=timeout_seconds(),
                                  context=ssl.create_default_context())
    else:
        connection = _PinnedHTTP(parts.hostname, port, address=address, timeout=timeout_seconds())
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"[:500], time.monotonic() - started, False
    finally:
        connection.close()
    seconds = time.monotonic() - started
    if 300 <= status < 400:
        return status, f"redirect not followed (HTTP {status})", seconds, True
    return status, "" if 200 <= status < 300 else f"HTTP {status}", seconds, False


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
