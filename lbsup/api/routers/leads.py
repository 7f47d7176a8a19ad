"""Sales leads: inquiries in a `qualify` category, qualified and routed, from new to won or lost."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from lbsup.crm.actions import do_change_lead_stage, do_update_lead
from lbsup.crm.models import Lead

from .. import schemas, serialize
from ..auth import desk, person_at_desk
from ..errors import ApiError
from ..pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, page
from .common import ObjectId, WorkspaceSlug, cached_read, responses

router = Router(tags=["leads"])


class LeadPage(Schema):
    results: list[schemas.Lead]
    next_cursor: str | None


class LeadFilters(Schema):
    stage: schemas.one_of(Lead.Stage) | None = None
    category: str | None = Field(None, max_length=64, pattern=schemas.NO_NUL)
    owner: str | None = Field(None, max_length=150, pattern=schemas.NO_NUL,
                              description="username, or 'none' for leads nobody owns yet")
    updated_since: schemas.Since | None = Field(None, description="only leads changed at or after this time")
    cursor: str | None = Field(None, pattern=CURSOR_PATTERN, description="next_cursor from the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def leads_of(workspace):
    return Lead.objects.filter(workspace=workspace).select_related("ticket", "contact", "team", "owner")


def lead_or_404(request, lead_id):
    return get_object_or_404(leads_of(request.auth.workspace), pk=lead_id)


@router.get("/leads", response=responses(LeadPage), auth=desk, operation_id="list_leads")
@cached_read
def list_leads(request, slug: WorkspaceSlug, filters: Query[LeadFilters]):
    """Newest first. Poll with updated_since and If-None-Match."""
    leads = leads_of(request.auth.workspace)
    if filters.stage:
        leads = leads.filter(stage=filters.stage)
    if filters.category:
        leads = leads.filter(category=filters.category)
    if filters.owner:
        leads = leads.filter(owner__isnull=True) if filters.owner == "none" else leads.filter(
            owner__username=filters.owner)
    if filters.updated_since:
        leads = leads.filter(updated_at__gte=filters.updated_since)
    return page(leads, cursor=filters.cursor, limit=filters.limit, serialize=serialize.lead)


@router.get("/leads/{lead_id}", response=responses(schemas.Lead), auth=desk, operation_id="get_lead")
@cached_read
def get_lead(request, slug: WorkspaceSlug, lead_id: ObjectId):
    return serialize.lead(lead_or_404(request, lead_id))


def member_named(workspace, username):
    user = get_user_model().objects.filter(username=username, memberships__workspace=workspace).first()
    if user is None:
        raise ApiError(422, f"{username!r} is not a member of this workspace", code="unknown_user")
    return user


@router.patch("/leads/{lead_id}", response=responses(schemas.Lead, extra=(409,)), auth=person_at_desk,
              operation_id="update_lead")
def update_lead(request, slug: WorkspaceSlug, lead_id: ObjectId, payload: schemas.LeadIn):
    """Move the lead to its next stage (a lost lead needs a reason) and change its owner, next
    step or due time, as the token's person; each change sends the `lead.updated` webhook.
    A stage the lead cannot move to from where it is now is a 409. Needs a person's token."""
    lead = lead_or_404(request, lead_id)
    actor = request.auth.actor
    owner = member_named(request.auth.workspace, payload.owner) if payload.owner is not None else None
    if payload.stage is not None and payload.stage not in lead.next_stages:
        raise ApiError(409, f"A {lead.stage} lead cannot become {payload.stage}", code="stage_not_allowed",
                       details={"next_stages": list(lead.next_stages)})
    with transaction.atomic():
        try:
            if payload.stage is not None:
                lead = do_change_lead_stage(actor, lead, payload.stage, reason=payload.reason)
            if owner is not None or payload.next_step is not None or payload.due_at is not None:
                lead = do_update_lead(actor, lead, owner=owner, next_step=payload.next_step, due_at=payload.due_at)
        except ValueError as error:
            raise ApiError(422, str(error), code="invalid_change")
    return serialize.lead(lead_or_404(request, lead.pk))
