from .actors import AUTOMATED_ACTORS, is_person
from .models import AuditEvent


def record_event(workspace, actor, verb, target=None, **data):
    """Append one audit event; every action in every app calls this for its write."""
    if is_person(actor):
        kind, user = "user", actor
    elif actor in AUTOMATED_ACTORS:
        kind, user = actor, None
    else:
        raise ValueError(f"Unknown actor {actor!r}")
    return AuditEvent.objects.create(
        workspace=workspace,
        actor_kind=kind,
        actor_user=user,
        verb=verb,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data,
    )
