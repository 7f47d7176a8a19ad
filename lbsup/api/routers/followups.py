"""Follow-ups: a person's promise to look at a ticket again — snooze it until a time, or have a
nudge drafted if the customer has not written by then."""

from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as Reply

from lbsup.followups.actions import do_cancel_followup, do_set_nudge, do_snooze
from lbsup.followups.models import FollowUp
from lbsup.followups.sla import remind_before

from .. import schemas, serialize
from ..auth import desk, person_at_desk
from ..errors import ApiError
from ..pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, page
from .common import Number, ObjectId, WorkspaceSlug, cached_read, responses
from .tickets import ticket_or_404

router = Router(tags=["follow-ups"])


class FollowUpPage(Schema):
    results: list[schemas.FollowUp]
    next_cursor: str | None


class FollowUpFilters(Schema):
    state: schemas.one_of(FollowUp.State) | None = Field(None, description="pending: still open")
    due: Literal["overdue", "due_soon"] | None = Field(
        None, description="only pending follow-ups whose time has come, or that are due within the reminder window")
    kind: schemas.one_of(FollowUp.Kind) | None = None
    cursor: str | None = Field(None, pattern=CURSOR_PATTERN, description="next_cursor from the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def followups_of(workspace):
    return FollowUp.objects.filter(workspace=workspace).select_related("ticket", "created_by")


def followup_or_404(request, followup_id):
    return get_object_or_404(followups_of(request.auth.workspace), pk=followup_id)


def _serializer():
    now = timezone.now()
    return lambda followup: serialize.followup(followup, now)


@router.get("/followups", response=responses(FollowUpPage), auth=desk, operation_id="list_followups")
@cached_read
def list_followups(request, slug: WorkspaceSlug, filters: Query[FollowUpFilters]):
    """Newest first; state=pending for the open ones, due=overdue or due=due_soon for what needs a look."""
    followups = followups_of(request.auth.workspace)
    if filters.state:
        followups = followups.filter(state=filters.state)
    if filters.kind:
        followups = followups.filter(kind=filters.kind)
    if filters.due:
        now = timezone.now()
        followups = followups.filter(state=FollowUp.State.PENDING)
        followups = followups.filter(due_at__lte=now) if filters.due == "overdue" else followups.filter(
            due_at__gt=now, due_at__lte=now + remind_before())
    return page(followups, cursor=filters.cursor, limit=filters.limit, serialize=_serializer())


@router.get("/followups/{followup_id}", response=responses(schemas.FollowUp), auth=desk,
            operation_id="get_followup")
@cached_read
def get_followup(request, slug: WorkspaceSlug, followup_id: ObjectId):
    return _serializer()(followup_or_404(request, followup_id))


@router.get("/tickets/{number}/followups", response=responses(list[schemas.FollowUp]), auth=desk,
            operation_id="list_ticket_followups")
@cached_read
def list_ticket_followups(request, slug: WorkspaceSlug, number: Number):
    """The ticket's follow-ups, pending and past, soonest first."""
    ticket = ticket_or_404(request, number)
    followups = followups_of(request.auth.workspace).filter(ticket=ticket).order_by("due_at", "id")
    return [_serializer()(f) for f in followups]


@router.post("/tickets/{number}/followups", response=responses(schemas.FollowUp, status=201, extra=(409,)),
             auth=person_at_desk, operation_id="create_followup")
def create_followup(request, slug: WorkspaceSlug, number: Number, payload: schemas.FollowUpIn):
    """Snooze the ticket until due_at, or set a nudge for due_at, as the token's person. A new
    one replaces the ticket's pending follow-up of the same kind. A resolved or closed ticket
    cannot be snoozed (409). Needs a person's token."""
    ticket = ticket_or_404(request, number)
    if payload.kind == FollowUp.Kind.SNOOZE and not ticket.is_open:
        raise ApiError(409, "A resolved or closed ticket cannot be snoozed", code="ticket_closed")
    set_followup = do_snooze if payload.kind == FollowUp.Kind.SNOOZE else do_set_nudge
    try:
        followup = set_followup(request.auth.actor, ticket, payload.due_at, note=payload.note)
    except ValueError as error:
        raise ApiError(422, str(error), code="invalid_time")
    return Reply(201, _serializer()(followup_or_404(request, followup.pk)))


@router.post("/followups/{followup_id}/cancel", response=responses(schemas.FollowUp, extra=(409,)),
             auth=person_at_desk, operation_id="cancel_followup")
def cancel_followup(request, slug: WorkspaceSlug, followup_id: ObjectId, payload: schemas.FollowUpCancelIn):
    """Close a pending follow-up by hand — done, or no longer needed (the reason says which);
    a snoozed ticket comes back to the queue. One that already fired or was closed is a 409.
    Needs a person's token."""
    followup = followup_or_404(request, followup_id)
    try:
        followup = do_cancel_followup(request.auth.actor, followup, reason=payload.reason)
    except ValueError as error:
        raise ApiError(409, str(error))
    return _serializer()(followup_or_404(request, followup.pk))
