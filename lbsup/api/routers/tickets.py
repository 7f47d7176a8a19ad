import hashlib
import json
from datetime import datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, Header, Query, Router, Schema
from ninja.responses import Status as Reply

from lbsup.drafts.models import Draft
from lbsup.intake.actions import (
    FINAL_STATES,
    MessageTooLarge,
    compose_inbound,
    do_process,
    do_receive,
)
from lbsup.intake.models import InboundChannel, RawMessage
from lbsup.tickets.actions import do_add_note
from lbsup.tickets.models import Status, Ticket
from lbsup.triage.models import TriageRecord

from .. import schemas, serialize
from ..auth import desk, person_at_desk
from ..errors import ApiError
from ..pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, cursor_param, page
from .common import Number, WorkspaceSlug, cached_read, responses

router = Router(tags=["tickets"])


class TicketPage(Schema):
    results: list[schemas.Ticket]
    next_cursor: str | None


class MessagePage(Schema):
    results: list[schemas.Message]
    next_cursor: str | None


class TicketFilters(Schema):
    status: Status | None = None
    category: str | None = Field(None, max_length=64)
    team: str | None = Field(None, max_length=64, description="team slug")
    assignee: str | None = Field(None, max_length=150, description="username, or 'none' for unassigned")
    escalated: bool | None = None
    q: str | None = Field(None, max_length=200, description="words in the subject, the contact's name or address, or a ticket number")
    updated_since: datetime | None = Field(None, description="only tickets changed at or after this time (for polling)")
    cursor: str | None = Field(None, pattern=CURSOR_PATTERN, description="next_cursor from the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def tickets_of(workspace):
    return Ticket.objects.filter(workspace=workspace).select_related("contact", "team", "assignee", "merged_into")


def ticket_or_404(request, number):
    return get_object_or_404(tickets_of(request.auth.workspace), number=number)


def _filter(tickets, f):
    if f.status:
        tickets = tickets.filter(status=f.status)
    if f.category:
        tickets = tickets.filter(category=f.category)
    if f.team:
        tickets = tickets.filter(team__slug=f.team)
    if f.assignee:
        tickets = tickets.filter(assignee__isnull=True) if f.assignee == "none" else tickets.filter(
            assignee__username=f.assignee)
    if f.escalated is not None:
        tickets = tickets.filter(status=Status.ESCALATED) if f.escalated else tickets.exclude(status=Status.ESCALATED)
    if f.q and f.q.strip():
        words = f.q.strip()
        match = (Q(subject__icontains=words) | Q(contact__name__icontains=words)
                 | Q(contact__emails__email__icontains=words))
        if words.lstrip("#").isdigit() and len(words) < 10:
            match |= Q(number=int(words.lstrip("#")))
        tickets = tickets.filter(match).distinct()
    if f.updated_since:
        tickets = tickets.filter(updated_at__gte=f.updated_since)
    return tickets


@router.get("/tickets", response=responses(TicketPage), auth=desk, operation_id="list_tickets")
@cached_read
def list_tickets(request, slug: WorkspaceSlug, filters: Query[TicketFilters]):
    """The queue, newest first, with the desk's filters. Poll with updated_since and If-None-Match."""
    tickets = _filter(tickets_of(request.auth.workspace), filters)
    return page(tickets, cursor=filters.cursor, limit=filters.limit, serialize=serialize.ticket)


def request_fingerprint(payload):
    """What makes two requests under one Idempotency-Key the same request: the message, not
    how its JSON was spelled."""
    canonical = json.dumps(payload.model_dump(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def first_request_sha256(message):
    """The fingerprint stored with the request that first brought this message in."""
    first = RawMessage.objects.filter(message=message, state=RawMessage.State.PROCESSED).order_by("id").first()
    return (first.source or {}).get("request_sha256") if first else None


@router.post("/tickets",
             response={200: schemas.Ticket, **responses(schemas.Ticket, status=201, extra=(409, 413))},
             auth=desk, operation_id="create_ticket")
def create_ticket(request, slug: WorkspaceSlug, payload: schemas.InboundMessage,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200)):
    """A customer's message arriving through the API: the same path as mail (stored raw,
    deduplicated, threaded, triaged). Repeating a request with the same Idempotency-Key
    returns the first ticket with 200 instead of 201; the same key with a different message
    is refused with 409 (code idempotency_key_reused)."""
    workspace = request.auth.workspace
    raw = compose_inbound(workspace, from_email=payload.from_email, from_name=payload.from_name,
                          subject=payload.subject, text=payload.text, message_key=idempotency_key)
    source = {"api_token": request.auth.token.prefix}
    if idempotency_key:
        source["request_sha256"] = request_fingerprint(payload)
    try:
        received = do_receive(workspace, raw, channel=InboundChannel.API, source=source)
    except MessageTooLarge as error:
        raise ApiError(413, str(error))
    # The same bytes stored and handled before (a retry within the same second): a replay.
    replay = received.state in FINAL_STATES
    received = do_process(received)
    if received.state not in (RawMessage.State.PROCESSED, RawMessage.State.DUPLICATE) or received.message is None:
        raise ApiError(422, f"The message was not accepted: {received.detail or received.state}",
                       code=f"message_{received.state}")
    created = received.state == RawMessage.State.PROCESSED and not replay
    # The key names the message (its Message-ID), so a different body under it is a duplicate
    # of the first one: compare what each request asked for.
    if idempotency_key and not created and first_request_sha256(received.message) != source["request_sha256"]:
        raise ApiError(409, "This Idempotency-Key was already used for a different message; use a new key "
                            "for a new message", code="idempotency_key_reused")
    ticket = tickets_of(workspace).get(pk=received.message.ticket_id)
    return Reply(201 if created else 200, serialize.ticket(ticket))


@router.get("/tickets/{number}", response=responses(schemas.TicketWithMessages), auth=desk, operation_id="get_ticket")
@cached_read
def get_ticket(request, slug: WorkspaceSlug, number: Number):
    ticket = ticket_or_404(request, number)
    messages = ticket.messages.select_related("author_user", "author_contact").prefetch_related("attachments")
    return {**serialize.ticket(ticket), "messages": [serialize.message(m) for m in messages]}


@router.get("/tickets/{number}/messages", response=responses(MessagePage), auth=desk, operation_id="list_messages")
@cached_read
def list_messages(request, slug: WorkspaceSlug, number: Number, cursor: str | None = cursor_param(),
                  limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    """The ticket's messages and internal notes, newest first."""
    ticket = ticket_or_404(request, number)
    messages = ticket.messages.select_related("author_user", "author_contact").prefetch_related("attachments")
    return page(messages, cursor=cursor, limit=limit, serialize=serialize.message)


@router.post("/tickets/{number}/notes", response=responses(schemas.Message, status=201), auth=person_at_desk,
             operation_id="add_note")
def add_note(request, slug: WorkspaceSlug, number: Number, payload: schemas.NoteIn):
    """An internal note, never shown to the customer. Needs a person's token: a note has an author."""
    ticket = ticket_or_404(request, number)
    if not payload.text.strip():
        raise ApiError(422, "A note cannot be empty")
    return Reply(201, serialize.message(do_add_note(request.auth.actor, ticket, payload.text)))


@router.get("/tickets/{number}/triage", response=responses(list[schemas.TriageResult]), auth=desk,
            operation_id="list_triage_results")
@cached_read
def list_triage_results(request, slug: WorkspaceSlug, number: Number):
    """The assistant's reading of each inbound message, with its evidence, newest first."""
    ticket = ticket_or_404(request, number)
    records = TriageRecord.objects.filter(ticket=ticket).select_related("playbook_version").order_by("-created_at", "-id")
    return [serialize.triage_record(r) for r in records]


@router.get("/tickets/{number}/drafts", response=responses(list[schemas.Draft]), auth=desk,
            operation_id="list_ticket_drafts")
@cached_read
def list_ticket_drafts(request, slug: WorkspaceSlug, number: Number):
    ticket = ticket_or_404(request, number)
    drafts = Draft.objects.filter(ticket=ticket).select_related("ticket", "decided_by")
    return [serialize.draft(d) for d in drafts]
