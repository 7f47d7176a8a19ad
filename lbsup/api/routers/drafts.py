from django.shortcuts import get_object_or_404
from ninja import Router

from lbsup.drafts.actions import GuardrailBlocked, already_approved_notice, do_approve_draft
from lbsup.outbound.actions import Unsendable
from lbsup.drafts.models import Draft

from .. import schemas, serialize
from ..auth import desk, person_at_desk
from ..errors import ApiError
from .common import ObjectId, WorkspaceSlug, cached_read, responses

router = Router(tags=["drafts"])


def draft_or_404(request, draft_id):
    return get_object_or_404(Draft.objects.select_related("ticket", "decided_by", "workspace"),
                             workspace=request.auth.workspace, pk=draft_id)


@router.get("/drafts/{draft_id}", response=responses(schemas.Draft), auth=desk, operation_id="get_draft")
@cached_read
def get_draft(request, slug: WorkspaceSlug, draft_id: ObjectId):
    return serialize.draft(draft_or_404(request, draft_id))


@router.post("/drafts/{draft_id}/approve", response=responses(schemas.Draft, extra=(409,)), auth=person_at_desk,
             operation_id="approve_draft")
def approve_draft(request, slug: WorkspaceSlug, draft_id: ObjectId, payload: schemas.ApproveIn):
    """Approve (possibly edited) text and send it to the customer, as the token's person.
    Guardrails run again; a blocking finding refuses (422) unless override_reason is given.
    A service token can never do this. A draft someone else approved first is a 409
    (code already_approved) saying who and when; an address the reply cannot reach is a
    422 (code unsendable)."""
    draft = draft_or_404(request, draft_id)
    text = payload.text if payload.text is not None else draft.text
    if not text.strip():
        raise ApiError(422, "The reply is empty")
    try:
        draft = do_approve_draft(request.auth.actor, draft, text, override_reason=payload.override_reason,
                                 cc=payload.cc)
    except GuardrailBlocked as blocked:
        raise ApiError(422, str(blocked), code="guardrail_blocked", details=blocked.findings)
    except Unsendable as error:
        raise ApiError(422, str(error), code="unsendable")
    except ValueError as error:
        raise ApiError(409, str(error))
    notice = already_approved_notice(draft, request.auth.actor)
    if notice:
        raise ApiError(409, notice, code="already_approved", details=serialize.draft(draft))
    return serialize.draft(draft)
