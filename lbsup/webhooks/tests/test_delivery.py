import datetime as dt
import json
import time

import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.webhooks.actions import do_create_endpoint, do_emit, do_retry_delivery
from lbsup.webhooks.delivery import MAX_ATTEMPTS, deliver_due
from lbsup.webhooks.models import Delivery
from lbsup.webhooks.signing import signature, verify

T0 = dt.datetime(2025, 3, 10, 17, 0, tzinfo=dt.timezone.utc)


def emit_one(personas, receiver, event_types=()):
    endpoint = do_create_endpoint(personas.lena, personas.dental, url=receiver.url, event_types=event_types)
    [delivery] = do_emit(personas.dental, "crm.note.approved", {"note": 7, "fields": {"summary": "loose crown"}},
                         at=T0)
    return endpoint, delivery


def test_it_delivers_a_signed_timestamped_event_with_an_idempotency_key(personas, receiver):
    endpoint, delivery = emit_one(personas, receiver)
    [done] = deliver_due(T0)
    assert done.state == Delivery.State.DELIVERED and done.attempts == 1
    headers, body = receiver.received[0]
    assert verify(endpoint.secret, headers, body, now=time.time())
    assert not verify("whsec_wrong", headers, body, now=time.time())
    assert not verify(endpoint.secret, headers, body, now=time.time() + 3600)  # a replayed old request
    assert headers["Idempotency-Key"] == delivery.idempotency_key == headers["X-Lbsup-Delivery"]
    envelope = json.loads(body)
    assert envelope["type"] == "crm.note.approved" and envelope["data"]["fields"]["summary"] == "loose crown"
    assert envelope["workspace"] == "bright-smile"


def test_it_retries_an_endpoint_that_fails_for_an_hour_with_backoff_and_loses_nothing(personas, receiver):
    receiver.plan = [500] * 8
    endpoint, delivery = emit_one(personas, receiver)
    now, waits = T0, []
    while now <= T0 + dt.timedelta(hours=1):
        deliver_due(now)
        delivery.refresh_from_db()
        if delivery.state == Delivery.State.PENDING and delivery.next_attempt_at > now:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
        else:
            now += dt.timedelta(minutes=1)
    assert delivery.state == Delivery.State.PENDING and delivery.last_status == 500
    assert waits == sorted(waits) and waits[0] < waits[-1]  # backing off
    assert delivery.log.count() == delivery.attempts >= 5
    receiver.plan = []
    deliver_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    keys = {headers["Idempotency-Key"] for headers, _ in receiver.received}
    bodies = {body for _, body in receiver.received}
    assert keys == {delivery.idempotency_key} and len(bodies) == 1  # the same event every time


def test_it_retries_a_timeout(personas, receiver, settings):
    settings.LBSUP_WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.plan = ["stall"]
    _, delivery = emit_one(personas, receiver)
    deliver_due(T0)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING
    assert delivery.last_status is None and "timed out" in delivery.last_error.lower()
    deliver_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED and delivery.attempts == 2


def test_it_gives_up_visibly_and_a_person_can_retry_but_not_resend_a_delivered_event(personas, receiver):
    receiver.plan = [503] * MAX_ATTEMPTS
    _, delivery = emit_one(personas, receiver)
    now = T0
    for _ in range(MAX_ATTEMPTS):
        deliver_due(now)
        delivery.refresh_from_db()
        now = delivery.next_attempt_at or now
    assert delivery.state == Delivery.State.FAILED and delivery.attempts == MAX_ATTEMPTS
    with pytest.raises(PermissionError):
        do_retry_delivery(SYSTEM, delivery)
    do_retry_delivery(personas.lena, delivery, at=now)
    deliver_due(now)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    do_retry_delivery(personas.lena, delivery, at=now)  # a retry from a stale page
    deliver_due(now)
    assert len({h["Idempotency-Key"] for h, _ in receiver.received}) == 1
    assert len(receiver.received) == MAX_ATTEMPTS + 1


def test_it_claims_a_delivery_once_even_when_two_workers_run(personas, receiver):
    emit_one(personas, receiver)
    assert len(deliver_due(T0)) == 1
    assert deliver_due(T0) == []
    assert len(receiver.received) == 1


def test_it_only_sends_events_an_endpoint_asked_for(personas, receiver):
    do_create_endpoint(personas.lena, personas.dental, url=receiver.url, event_types=["lead.*"])
    assert do_emit(personas.dental, "crm.note.approved", {"note": 1}) == []
    assert len(do_emit(personas.dental, "lead.updated", {"lead": 1})) == 1
    assert do_emit(personas.shop, "lead.updated", {"lead": 1}) == []


def test_it_refuses_a_non_http_url(personas):
    with pytest.raises(ValueError):
        do_create_endpoint(personas.lena, personas.dental, url="file:///etc/passwd")


def test_it_signs_with_hmac_sha256_over_timestamp_and_body():
    # Known-answer check a consumer in another language can reproduce.
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("s3cret", 1700000000, b"{}") == f"v1={expected}"
