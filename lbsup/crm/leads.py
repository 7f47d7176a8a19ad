"""Sales leads for `qualify` categories: answers from the message, routed with a next step and due date."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from lbsup.assist.playbook import PRIORITIES
from lbsup.audit.actions import record_event
from lbsup.audit.actors import ASSISTANT, is_person

from .facts import qualification_answers
from .models import Lead

MAX_ANSWER = 500


def _next_step(category, missing):
    if missing:
        questions = [q.question for q in category.qualification if q.field in missing]
        return ("Ask: " + " ".join(questions))[:300]
    return (category.next_steps[0] if category.next_steps else "Hand over to the sales owner")[:300]


def do_create_or_update_lead(ticket, *, category, text, details, at=None):
    """The lead of this ticket, created the first time a message is triaged as a `qualify` category;
    later messages fill answers still missing (a person's answers are never overwritten)."""
    from lbsup.followups.sla import calendar_for
    from lbsup.playbooks.active import active_playbook
    from lbsup.workspaces.models import Team

    at = at or timezone.now()
    found = qualification_answers(category, text, details)
    lead = Lead.objects.filter(ticket=ticket).first()
    if lead is not None:
        added = {k: v for k, v in found.items() if not lead.answers.get(k)}
        if not added:
            return lead
        lead.answers = {**lead.answers, **added}
        lead.missing = [q.field for q in category.qualification if not lead.answers.get(q.field)]
        lead.next_step, lead.updated_at = _next_step(category, lead.missing), at
        lead.save(update_fields=["answers", "missing", "next_step", "updated_at"])
        record_event(ticket.workspace, ASSISTANT, "lead.answers_found", lead, fields=sorted(added))
        return lead
    _, playbook = active_playbook(ticket.workspace)
    missing = [q.field for q in category.qualification if q.field not in found]
    priority = PRIORITIES[max(0, min(int(ticket.priority), 3))]
    due_at = calendar_for(ticket.workspace, playbook).add(at, category.sla_for(priority).first_response)
    try:
        with transaction.atomic():
            lead = Lead.objects.create(
                workspace_id=ticket.workspace_id, contact_id=ticket.contact_id, ticket=ticket,
                category=category.slug, answers=found, missing=missing,
                team=Team.objects.filter(workspace_id=ticket.workspace_id, slug=category.team).first(),
                next_step=_next_step(category, missing), due_at=due_at, created_at=at, updated_at=at)
            record_event(ticket.workspace, ASSISTANT, "lead.created", lead, ticket=ticket.number,
                         category=category.slug, team=category.team, answered=sorted(found), missing=missing)
    except IntegrityError:  # created by another worker triaging the same ticket
        return Lead.objects.get(ticket=ticket)
    _emit(lead, "created")
    return lead


def _emit(lead, change):
    from lbsup.webhooks.actions import do_emit

    do_emit(lead.workspace, "lead.updated", {
        "change": change, "lead": lead.pk, "ticket": lead.ticket.number, "stage": lead.stage, "category": lead.category,
        "contact": lead.contact_id, "contact_email": lead.contact.primary_email, "answers": lead.answers,
        "missing": lead.missing, "team": lead.team.slug if lead.team_id else None, "next_step": lead.next_step,
        "due_at": lead.due_at, "owner": lead.owner.get_username() if lead.owner_id else None})


@transaction.atomic
def do_change_lead_stage(actor, lead, stage, *, reason="", at=None):
    if not is_person(actor):
        raise PermissionError("A person moves a lead")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if stage not in Lead.Stage.values:
        raise ValueError(f"Unknown stage {stage!r}")
    if stage not in lead.next_stages:
        allowed = ", ".join(lead.next_stages) or "none (the lead is closed)"
        raise ValueError(f"A {lead.get_stage_display().lower()} lead cannot become {stage} (allowed: {allowed})")
    if stage == Lead.Stage.LOST and not reason.strip():
        raise ValueError("Say why the lead was lost")
    before = lead.stage
    lead.stage, lead.updated_at = stage, at or timezone.now()
    if lead.owner_id is None:
        lead.owner = actor
    lead.save(update_fields=["stage", "updated_at", "owner"])
    record_event(lead.workspace, actor, "lead.stage_changed", lead, before=before, after=stage, reason=reason)
    _emit(lead, "stage_changed")
    return lead


@transaction.atomic
def do_update_lead(actor, lead, *, answers=None, next_step=None, due_at=None, owner=None):
    """A person corrects answers, the next step, the due date or the owner."""
    if not is_person(actor):
        raise PermissionError("A person edits a lead")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    changed = {}
    if answers is not None:
        clean = {k: str(v).strip()[:MAX_ANSWER] for k, v in answers.items()}
        lead.answers = {**lead.answers, **clean}
        lead.missing = [f for f in lead.missing if not lead.answers.get(f)]
        changed["answers"] = sorted(clean)
    if next_step is not None:
        lead.next_step = next_step.strip()[:300]
        changed["next_step"] = lead.next_step
    if due_at is not None:
        lead.due_at = due_at
        changed["due_at"] = due_at.isoformat()
    if owner is not None:
        if not owner.memberships.filter(workspace_id=lead.workspace_id).exists():
            raise ValueError(f"{owner} is not a member of this workspace")
        lead.owner = owner
        changed["owner"] = owner.get_username()
    lead.updated_at = timezone.now()
    lead.save()
    record_event(lead.workspace, actor, "lead.updated", lead, **changed)
    _emit(lead, "updated")
    return lead
