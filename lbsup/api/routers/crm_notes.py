"""CRM notes: the record of a handled ticket. The assistant proposes one, a person reviews
every field and approves it; only then is it the contact's record."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply

from lbsup.crm.actions import do_approve_crm_note, do_draft_crm_note, do_review_crm_note
from lbsup.crm.models import CrmNote

from .. import schemas, serialize
from ..auth import desk, person_at_desk
from ..errors import ApiError
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_param, page
from .common import Number, ObjectId, WorkspaceSlug, cached_read, responses
from .crm import contacts_of
from .tickets import ticket_or_404

router = Router(tags=["CRM notes"])


class CrmNotePage(Schema):
    results: list[schemas.CrmNote]
    next_cursor: str | None


def notes_of(workspace):
    return CrmNote.objects.filter(workspace=workspace).select_related("ticket", "contact", "approved_by")


def note_or_404(request, note_id):
    return get_object_or_404(notes_of(request.auth.workspace), pk=note_id)


@router.get("/crm-notes", response=responses(CrmNotePage), auth=desk, operation_id="list_crm_notes")
@cached_read
def list_crm_notes(request, slug: WorkspaceSlug, state: schemas.one_of(CrmNote.State) | None = None,
                   cursor: str | None = cursor_param(), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """Every CRM note of the workspace, newest first; state=draft is what waits for review."""
    notes = notes_of(request.auth.workspace)
    if state:
        notes = notes.filter(state=state)
    return page(notes, cursor=cursor, limit=limit, serialize=serialize.crm_note)


@router.get("/crm-notes/{note_id}", response=responses(schemas.CrmNote), auth=desk, operation_id="get_crm_note")
@cached_read
def get_crm_note(request, slug: WorkspaceSlug, note_id: ObjectId):
    return serialize.crm_note(note_or_404(request, note_id))


@router.get("/contacts/{contact_id}/crm-notes", response=responses(CrmNotePage), auth=desk,
            operation_id="list_contact_crm_notes")
@cached_read
def list_contact_crm_notes(request, slug: WorkspaceSlug, contact_id: ObjectId, cursor: str | None = cursor_param(),
                           limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    contact = get_object_or_404(contacts_of(request.auth.workspace), pk=contact_id)
    return page(notes_of(request.auth.workspace).filter(contact=contact), cursor=cursor, limit=limit,
                serialize=serialize.crm_note)


@router.get("/tickets/{number}/crm-notes", response=responses(list[schemas.CrmNote]), auth=desk,
            operation_id="list_ticket_crm_notes")
@cached_read
def list_ticket_crm_notes(request, slug: WorkspaceSlug, number: Number):
    ticket = ticket_or_404(request, number)
    return [serialize.crm_note(n) for n in notes_of(request.auth.workspace).filter(ticket=ticket)]


@router.post("/tickets/{number}/crm-notes",
             response={200: schemas.CrmNote, **responses(schemas.CrmNote, status=201)}, auth=person_at_desk,
             operation_id="draft_crm_note")
def draft_crm_note(request, slug: WorkspaceSlug, number: Number, payload: schemas.CrmNoteDraftIn):
    """Propose the ticket's CRM note in the playbook's note format (201), or return its open
    draft (200). values fill or change fields now; nothing counts as reviewed until a person
    approves. Needs a person's token."""
    ticket = ticket_or_404(request, number)
    already = CrmNote.objects.filter(ticket=ticket, state=CrmNote.State.DRAFT).exists()
    with transaction.atomic():
        note = do_draft_crm_note(request.auth.actor, ticket)
        if payload.values:
            try:
                note = do_review_crm_note(request.auth.actor, note, values=payload.values)
            except ValueError as error:
                raise ApiError(422, str(error), code="invalid_note")
    return Reply(200 if already else 201, serialize.crm_note(note_or_404(request, note.pk)))


@router.post("/crm-notes/{note_id}/approve", response=responses(schemas.CrmNote, extra=(409,)),
             auth=person_at_desk, operation_id="approve_crm_note")
def approve_crm_note(request, slug: WorkspaceSlug, note_id: ObjectId, payload: schemas.CrmNoteApproveIn):
    """Approve a draft note as the token's person, with any last edits. Every field must be
    reviewed (now, in `reviewed`, or before); a note already approved or discarded is a 409."""
    note = note_or_404(request, note_id)
    try:
        note = do_approve_crm_note(request.auth.actor, note, values=payload.values, reviewed=payload.reviewed)
    except ValueError as error:
        note.refresh_from_db(fields=["state"])
        if note.state != CrmNote.State.DRAFT:
            raise ApiError(409, str(error))
        raise ApiError(422, str(error), code="invalid_note")
    return serialize.crm_note(note_or_404(request, note.pk))
