"""CRM notes: drafted in the playbook's note format, reviewed field by field, approved by a person."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import ASSISTANT, is_person
from lbsup.playbooks.active import NoActivePlaybook, active_playbook

from .facts import NoteFacts, answers_for, propose_note
from .models import CrmNote

DEFAULT_FIELDS = ("category", "summary", "details", "next_steps")
MAX_FIELD_LENGTH = 2000
SUMMARY_CHARS = 300


def note_fields_for(workspace):
    try:
        return active_playbook(workspace)[1].crm_note_fields or DEFAULT_FIELDS
    except NoActivePlaybook:
        return DEFAULT_FIELDS


def ticket_facts(ticket, field_names, at):
    from lbsup.tickets.models import Direction

    records = list(ticket.triage_records.order_by("created_at", "id"))
    latest = records[-1].result if records else {}
    details, seen = [], set()
    for record in records:
        for detail in record.result.get("details", []):
            key = (detail["kind"], detail["normalized"])
            if key not in seen and detail.get("source") != "sender":
                seen.add(key)
                details.append((detail["kind"], detail["normalized"], detail.get("source", "")))
    inbound = list(ticket.messages.filter(direction=Direction.INBOUND).order_by("created_at", "id")
                   .values_list("text", flat=True))
    summary = (latest.get("summary") or {}).get("text") or " ".join((inbound[0] if inbound else "").split())
    last_reply = ticket.messages.filter(direction=Direction.OUTBOUND).order_by("-created_at", "-id").first()
    outcome = ticket.get_status_display()
    if last_reply is not None:
        outcome += f"; last reply: {' '.join(last_reply.text.split())[:SUMMARY_CHARS]}"
    contact = ticket.contact
    owner = ticket.assignee.get_full_name() or ticket.assignee.get_username() if ticket.assignee_id else ""
    when = (ticket.resolved_at or at).astimezone(ticket.workspace.tz)
    return NoteFacts(
        date=when.date().isoformat(), channel=ticket.get_channel_display(), category=ticket.category,
        subject=ticket.subject, summary=summary[:SUMMARY_CHARS],
        details=tuple((kind, value) for kind, value, _ in details), outcome=outcome,
        next_steps=tuple(latest.get("next_steps", ())), owner=owner, contact_name=contact.name,
        contact_email=contact.primary_email, team=ticket.team.name if ticket.team_id else "",
        priority=ticket.get_priority_display(), escalation=ticket.escalation_reason,
        answers=answers_for(field_names, "\n".join(inbound), details),
    )


def do_draft_crm_note(actor, ticket, *, at=None):
    """The open draft note of this ticket, drafted now if there is none (idempotent)."""
    if actor != ASSISTANT and not is_person(actor):
        raise PermissionError("The assistant or a person drafts CRM notes")
    existing = CrmNote.objects.filter(ticket=ticket, state=CrmNote.State.DRAFT).first()
    if existing:
        return existing
    at = at or timezone.now()
    names = note_fields_for(ticket.workspace)
    fields = [f.to_dict() for f in propose_note(names, ticket_facts(ticket, names, at))]
    try:
        with transaction.atomic():
            note = CrmNote.objects.create(workspace_id=ticket.workspace_id, contact_id=ticket.contact_id,
                                          ticket=ticket, fields=fields, created_at=at)
            record_event(ticket.workspace, actor, "crm_note.drafted", note, ticket=ticket.number,
                         empty=[f["name"] for f in fields if not f["value"]])
    except IntegrityError:  # drafted by someone else a moment ago
        return CrmNote.objects.get(ticket=ticket, state=CrmNote.State.DRAFT)
    return note


def _apply(note, values, reviewed):
    known = {f["name"] for f in note.fields}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"Unknown note field(s): {', '.join(sorted(unknown))}")
    changed = []
    for field in note.fields:
        if field["name"] in values:
            value = str(values[field["name"]]).strip()
            if len(value) > MAX_FIELD_LENGTH:
                raise ValueError(f"{field['name']} is longer than {MAX_FIELD_LENGTH} characters")
            if value != field["value"]:
                changed.append(field["name"])
            field["value"] = value
        if field["name"] in reviewed:
            field["reviewed"] = True
    return changed


def _check_open(actor, note):
    if not is_person(actor):
        raise PermissionError("A person reviews CRM notes")
    if note.state != CrmNote.State.DRAFT:
        raise ValueError(f"This note is {note.get_state_display().lower()}")


@transaction.atomic
def do_review_crm_note(actor, note, *, values=None, reviewed=()):
    """Save edits and mark fields reviewed; the note stays a draft."""
    note = CrmNote.objects.select_for_update().get(pk=note.pk)
    _check_open(actor, note)
    changed = _apply(note, values or {}, set(reviewed))
    note.save(update_fields=["fields"])
    record_event(note.workspace, actor, "crm_note.reviewed", note, changed=changed, reviewed=sorted(reviewed))
    return note


@transaction.atomic
def do_approve_crm_note(actor, note, *, values=None, reviewed=(), at=None):
    """Approve: every field must have been reviewed by a person (now or before). Only then it is the record."""
    note = CrmNote.objects.select_for_update().get(pk=note.pk)
    _check_open(actor, note)
    changed = _apply(note, values or {}, set(reviewed))
    pending = [f["name"] for f in note.fields if not f.get("reviewed")]
    if pending:
        raise ValueError(f"Review every field before approving (not yet: {', '.join(pending)})")
    note.state, note.approved_by, note.approved_at = CrmNote.State.APPROVED, actor, at or timezone.now()
    note.save(update_fields=["fields", "state", "approved_by", "approved_at"])
    edited = [f["name"] for f in note.fields if f["value"] != f["proposed"]]
    record_event(note.workspace, actor, "crm_note.approved", note, ticket=note.ticket.number, changed=changed,
                 edited=edited)
    from lbsup.webhooks.actions import do_emit

    do_emit(note.workspace, "crm.note.approved", {
        "note": note.pk, "ticket": note.ticket.number, "contact": note.contact_id,
        "contact_email": note.contact.primary_email, "approved_by": actor.get_username(),
        "approved_at": note.approved_at, "fields": {f["name"]: f["value"] for f in note.fields}})
    return note


@transaction.atomic
def do_discard_crm_note(actor, note, *, reason):
    note = CrmNote.objects.select_for_update().get(pk=note.pk)
    _check_open(actor, note)
    if not reason.strip():
        raise ValueError("Say why the note is discarded")
    note.state = CrmNote.State.DISCARDED
    note.save(update_fields=["state"])
    record_event(note.workspace, actor, "crm_note.discarded", note, reason=reason)
    return note
