"""Outbound sync: any app emits an event; every matching endpoint of the workspace gets a signed delivery.

Event types: ticket.created, ticket.escalated, draft.approved, message.sent,
crm.note.approved, lead.updated, sla.breached, contact.merged.
"""

import json
import threading
import uuid
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import is_person

from .delivery import checked_address
from .models import Delivery, Endpoint

MAX_PAYLOAD_BYTES = 256 * 1024
_local = threading.local()


@contextmanager
def endpoints_read_once():
    """Inside, each workspace's endpoints are read once, not on every event: a batch of mail emits
    ticket.created per new ticket, in one transaction. On SQLite that transaction holds the write lock,
    so no endpoint is added meanwhile; on PostgreSQL one added mid-batch gets events from the next batch."""
    if getattr(_local, "endpoints", None) is not None:
        yield
        return
    _local.endpoints = {}
    try:
        yield
    finally:
        _local.endpoints = None


def _active_endpoints(workspace):
    cache = getattr(_local, "endpoints", None)
    if cache is not None and workspace.pk in cache:
        return cache[workspace.pk]
    endpoints = list(Endpoint.objects.filter(workspace=workspace, active=True))
    if cache is not None:
        cache[workspace.pk] = endpoints
    return endpoints


def do_emit(workspace, event_type, payload, *, at=None):
    """Queue `payload` (JSON-serializable, or a function returning it, called only when an endpoint
    wants the event) for every active endpoint that wants `event_type`.
    Nothing is sent inside the caller's transaction; the job picks deliveries up after commit."""
    endpoints = [endpoint for endpoint in _active_endpoints(workspace) if endpoint.wants(event_type)]
    if not endpoints:
        return []
    data = json.loads(json.dumps(payload() if callable(payload) else payload, cls=DjangoJSONEncoder))
    if len(json.dumps(data)) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"A webhook payload may not exceed {MAX_PAYLOAD_BYTES} bytes")
    at = at or timezone.now()
    deliveries = [
        Delivery.objects.create(workspace=workspace, endpoint=endpoint, event_type=event_type, payload=data,
                                idempotency_key=uuid.uuid4().hex, next_attempt_at=at, created_at=at)
        for endpoint in endpoints
    ]
    from .tasks import deliver_webhook_job

    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [deliver_webhook_job(pk) for pk in ids])
    return deliveries


def _check_url(url):
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValueError(f"{url!r} is not an http(s) URL") from None
    try:
        checked_address(url)
    except OSError:
        # A name that does not resolve yet is no way in: every delivery checks the address again.
        pass


def do_create_endpoint(actor, workspace, *, url, description="", event_types=()):
    if not is_person(actor):
        raise PermissionError("A person adds webhook endpoints")
    _check_url(url)  # outside the transaction: a slow DNS answer must not hold SQLite's write lock
    with transaction.atomic():
        endpoint = Endpoint.objects.create(workspace=workspace, url=url, description=description[:200],
                                           event_types=[t.strip() for t in event_types if t.strip()])
        record_event(workspace, actor, "webhook.endpoint_created", endpoint, url=url,
                     event_types=endpoint.event_types)
    return endpoint


@transaction.atomic
def do_set_endpoint_active(actor, endpoint, active):
    if not is_person(actor):
        raise PermissionError("A person changes webhook endpoints")
    endpoint.active = active
    endpoint.save(update_fields=["active"])
    record_event(endpoint.workspace, actor, "webhook.endpoint_" + ("enabled" if active else "disabled"), endpoint)
    return endpoint


@transaction.atomic
def do_retry_delivery(actor, delivery, *, at=None):
    """Send a failed or waiting delivery again now, with the same body and idempotency key.
    A delivered one is left alone: sending it twice would make the receiver act twice."""
    if not is_person(actor):
        raise PermissionError("A person retries deliveries")
    at = at or timezone.now()
    before = delivery.state
    updated = Delivery.objects.filter(pk=delivery.pk).exclude(
        state__in=[Delivery.State.SENDING, Delivery.State.DELIVERED]).update(
        state=Delivery.State.PENDING, next_attempt_at=at)
    delivery.refresh_from_db()
    if not updated:
        if delivery.state == Delivery.State.DELIVERED:
            return delivery
        raise ValueError("This delivery is being sent right now")
    record_event(delivery.workspace, actor, "webhook.delivery_retried", delivery, before=before,
                 attempts=delivery.attempts)
    from .tasks import deliver_webhook_job

    transaction.on_commit(lambda: deliver_webhook_job(delivery.pk))
    return delivery
