import dataclasses

from django.db import IntegrityError, transaction

from lbsup.assist.triage import triage
from lbsup.audit.actions import record_event
from lbsup.audit.actors import ASSISTANT, is_person
from lbsup.playbooks.active import active_playbook
from lbsup.tickets.actions import (
    do_add_note,
    do_deescalate,
    do_escalate,
    do_route,
    do_set_priority,
)
from lbsup.tickets.models import Direction, Priority, Status
from lbsup.workspaces.models import Team

from .engine import message_input, triage_context, workspace_model
from .models import LabelledExample, TriageRecord

PRIORITY_FOR_URGENCY = {"low": Priority.LOW, "normal": Priority.NORMAL, "high": Priority.HIGH,
                        "urgent": Priority.URGENT}


def _team(workspace, slug):
    return Team.objects.filter(workspace=workspace, slug=slug).first() if slug else None


def do_triage_message(message):
    """Triage one inbound message and apply the result to its ticket as the assistant.

    Idempotent: a message triaged before keeps its first record. A category a person
    chose is never replaced; priority only ever goes up."""
    existing = TriageRecord.objects.filter(message=message).first()
    if existing:
        return existing
    if message.direction != Direction.INBOUND:
        raise ValueError("Only inbound customer messages are triaged")
    workspace = message.workspace
    version, playbook = active_playbook(workspace)
    model = workspace_model(workspace)
    ticket = message.ticket
    result = triage(message_input(message), playbook, model, triage_context(ticket))
    data = result.to_dict()
    try:
        with transaction.atomic():
            record = TriageRecord.objects.create(
                workspace=workspace, message=message, ticket=ticket, category=result.category,
                confidence=result.confidence, escalate=result.escalate, result=data, playbook_version=version,
                model_version=result.model_version,
            )
            _apply(ticket, result, data)
            if not result.auto_reply.detected:
                _assist(record, message, result)
    except IntegrityError:  # another worker triaged it first
        return TriageRecord.objects.get(message=message)
    return record


def _assist(record, message, result):
    """The draft, the thread summary and the internal note for the representative."""
    from lbsup.assist.notes import internal_note
    from lbsup.drafts.actions import do_propose_draft, thread_summary

    ticket = message.ticket
    if ticket.category_source == "person" and ticket.category != result.category:
        result = dataclasses.replace(result, category=ticket.category)
    _, draft = do_propose_draft(message, result)
    summary = thread_summary(ticket)
    record.result = {**record.result, "draft": draft.to_dict(), "summary": summary.to_dict() if summary else None}
    record.save(update_fields=["result"])
    do_add_note(ASSISTANT, ticket, internal_note(result, draft, summary))
    from lbsup.crm.hooks import after_triage

    after_triage(record, message, result)  # recurring-issue flag; a lead for `qualify` categories


def current_triage(message):
    """The triage of a message as it stands now (the same model reads it the same way),
    with the category a person chose, if one did."""
    workspace, ticket = message.workspace, message.ticket
    _, playbook = active_playbook(workspace)
    result = triage(message_input(message), playbook, workspace_model(workspace), triage_context(ticket))
    if ticket.category_source == "person" and ticket.category != result.category:
        result = dataclasses.replace(result, category=ticket.category)
    return result


def _apply(ticket, result, data):
    ticket.refresh_from_db()
    workspace = ticket.workspace
    if ticket.category_source != "person":
        do_route(ASSISTANT, ticket, category=result.category, team=_team(workspace, result.team),
                 confidence=result.confidence,
                 reason=f"{result.category_evidence.model}: {', '.join(result.category_evidence.words[:5])}")
    priority = PRIORITY_FOR_URGENCY.get(result.priority, Priority.NORMAL)
    if priority > ticket.priority:
        do_set_priority(ASSISTANT, ticket, priority, reason=f"urgency {result.urgency}")
    if result.escalate and ticket.status != Status.ESCALATED and ticket.is_open:
        do_escalate(ASSISTANT, ticket, reasons=data["escalation_reasons"], team=_team(workspace, result.team))
    record_event(workspace, ASSISTANT, "message.triaged", ticket, category=result.category,
                 confidence=round(result.confidence, 4), escalate=result.escalate,
                 reasons=[r["rule"] for r in data["escalation_reasons"]])


def _latest_inbound(ticket):
    return ticket.messages.filter(direction=Direction.INBOUND).order_by("-created_at", "-id").first()


@transaction.atomic
def do_correct_category(actor, ticket, category, *, reason=""):
    """A person overrides the category in one step; it becomes a training example here."""
    if not is_person(actor):
        raise PermissionError("Corrections come from people")
    _, playbook = active_playbook(ticket.workspace)
    try:
        team_slug = playbook.category(category).team
    except KeyError:
        raise ValueError(f"{category!r} is not a category of the {ticket.workspace.slug} playbook")
    previous = ticket.category
    do_route(actor, ticket, category=category, team=_team(ticket.workspace, team_slug), reason=reason)
    message = _latest_inbound(ticket)
    if message is not None:
        LabelledExample.objects.create(
            workspace=ticket.workspace, kind=LabelledExample.Kind.CATEGORY,
            text=f"{ticket.subject}\n{message.text}".strip(), label=category, previous=previous, message=message,
            created_by=actor,
        )
    record_event(ticket.workspace, actor, "triage.category_corrected", ticket, before=previous, after=category,
                 reason=reason)
    if message is not None and TriageRecord.objects.filter(message=message).exists():
        from lbsup.drafts.actions import do_propose_draft

        do_propose_draft(message, current_triage(message), actor=actor)
    from .tasks import retrain_workspace_model_job

    transaction.on_commit(lambda: retrain_workspace_model_job(ticket.workspace_id))
    return ticket


@transaction.atomic
def do_set_escalation(actor, ticket, escalate, *, reason):
    """A person escalates or de-escalates in one step, with a reason; it is kept as a label."""
    if not is_person(actor):
        raise PermissionError("Only a person overrides an escalation")
    if not reason.strip():
        raise ValueError("Say why")
    was_escalated = ticket.status == Status.ESCALATED
    if escalate and not was_escalated:
        do_escalate(actor, ticket, reasons=[{"rule": "person", "evidence": [reason]}])
    elif not escalate and was_escalated:
        do_deescalate(actor, ticket, reason=reason)
    else:
        return ticket
    message = _latest_inbound(ticket)
    LabelledExample.objects.create(
        workspace=ticket.workspace, kind=LabelledExample.Kind.ESCALATION,
        text=message.text if message else ticket.subject, label="escalate" if escalate else "do_not_escalate",
        previous="escalate" if was_escalated else "do_not_escalate", message=message, created_by=actor,
    )
    return ticket
