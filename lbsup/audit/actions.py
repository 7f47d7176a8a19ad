import threading
from contextlib import contextmanager

from lbsup.core.rows import insert_rows

from .actors import AUTOMATED_ACTORS, is_person
from .models import AuditEvent

_local = threading.local()


@contextmanager
def events_in_bulk():
    """Inside, record_event keeps the events in a list (yielded, so a caller that rolls back a
    savepoint can drop what it added) and they are written with one INSERT on leaving without
    an error, in the caller's transaction: a batch of writes (a batch of mail) costs one statement
    for its audit trail instead of one per event. Nested uses share the outermost list. The events'
    ids are not read back."""
    if getattr(_local, "pending", None) is not None:
        yield _local.pending
        return
    _local.pending = pending = []
    try:
        yield pending
    finally:
        _local.pending = None
    insert_rows(AuditEvent, pending)


def record_event(workspace, actor, verb, target=None, **data):
    """Append one audit event; every action in every app calls this for its write."""
    if is_person(actor):
        kind, user = "user", actor
    elif actor in AUTOMATED_ACTORS:
        kind, user = actor, None
    else:
        raise ValueError(f"Unknown actor {actor!r}")
    event = AuditEvent(
        workspace=workspace,
        actor_kind=kind,
        actor_user=user,
        verb=verb,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data,
    )
    pending = getattr(_local, "pending", None)
    if pending is None:
        event.save()
    else:
        pending.append(event)
    return event
