"""Follow-ups a representative sets on a ticket: snooze until a time, or "if no reply by …, nudge"."""

import string

from django.db import transaction
from django.utils import timezone

from lbsup.assist.playbook import DEFAULT_NUDGE
from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM, is_person
from lbsup.playbooks.active import NoActivePlaybook, active_playbook
from lbsup.tickets.models import Direction, Status, Ticket

from .models import FollowUp

MAX_FOLLOWUP_DAYS = 366


def _check_due(due_at, now):
    if timezone.is_naive(due_at):
        raise ValueError("The follow-up time needs a time zone")
    if due_at <= now:
        raise ValueError("The follow-up time must be in the future")
    if (due_at - now).days > MAX_FOLLOWUP_DAYS:
        raise ValueError(f"The follow-up time must be within {MAX_FOLLOWUP_DAYS} days")


@transaction.atomic
def do_snooze(actor, ticket, until, *, note="", now=None):
    """Hide the ticket from the queue until `until`; it resurfaces then, or as soon as the customer writes."""
    if not is_person(actor):
        raise PermissionError("A person snoozes a ticket")
    now = now or timezone.now()
    _check_due(until, now)
    if not ticket.is_open:
        raise ValueError("A resolved or closed ticket cannot be snoozed")
    _cancel(ticket, FollowUp.Kind.SNOOZE, "replaced by a new snooze")
    followup = FollowUp.objects.create(workspace_id=ticket.workspace_id, ticket=ticket, kind=FollowUp.Kind.SNOOZE,
                                       due_at=until, note=note[:300], created_by=actor, created_at=now)
    Ticket.objects.filter(pk=ticket.pk).update(snoozed_until=until)
    ticket.snoozed_until = until
    record_event(ticket.workspace, actor, "ticket.snoozed", ticket, until=until.isoformat(), note=note)
    return followup


@transaction.atomic
def do_set_nudge(actor, ticket, due_at, *, note="", now=None):
    """If the customer has not written by `due_at`, a nudge draft is proposed for a person to approve."""
    if not is_person(actor):
        raise PermissionError("A person sets a follow-up")
    now = now or timezone.now()
    _check_due(due_at, now)
    _cancel(ticket, FollowUp.Kind.NUDGE, "replaced by a new nudge")
    followup = FollowUp.objects.create(workspace_id=ticket.workspace_id, ticket=ticket, kind=FollowUp.Kind.NUDGE,
                                       due_at=due_at, note=note[:300], created_by=actor, created_at=now)
    record_event(ticket.workspace, actor, "followup.nudge_set", ticket, due_at=due_at.isoformat(), note=note)
    return followup


@transaction.atomic
def do_cancel_followup(actor, followup, *, reason=""):
    if not is_person(actor):
        raise PermissionError("A person cancels a follow-up")
    claimed = FollowUp.objects.filter(pk=followup.pk, state=FollowUp.State.PENDING).update(
        state=FollowUp.State.CANCELLED, outcome=(reason or "cancelled")[:300])
    if not claimed:
        raise ValueError("This follow-up is no longer pending")
    if followup.kind == FollowUp.Kind.SNOOZE:
        Ticket.objects.filter(pk=followup.ticket_id, snoozed_until=followup.due_at).update(snoozed_until=None)
    record_event(followup.workspace, actor, "followup.cancelled", followup.ticket, kind=followup.kind, reason=reason)
    followup.refresh_from_db()
    return followup


def _cancel(ticket, kind, outcome):
    FollowUp.objects.filter(ticket=ticket, kind=kind, state=FollowUp.State.PENDING).update(
        state=FollowUp.State.CANCELLED, outcome=outcome)


def customer_replied(ticket, at):
    """A customer's message answers every pending nudge and ends a snooze."""
    pending = FollowUp.objects.filter(ticket=ticket, state=FollowUp.State.PENDING)
    if not pending.exists():
        return
    pending.update(state=FollowUp.State.CANCELLED, outcome="the customer wrote", fired_at=at)
    Ticket.objects.filter(pk=ticket.pk).update(snoozed_until=None)
    ticket.snoozed_until = None
    record_event(ticket.workspace, SYSTEM, "followup.answered_by_customer", ticket, at=at.isoformat())


def customers_replied(changes):
    """customer_replied for many tickets, [(ticket, time the customer wrote)]: one query finds
    the few with a pending follow-up."""
    changes = list(changes)
    if not changes:
        return
    waiting = set(FollowUp.objects.filter(ticket_id__in=[ticket.pk for ticket, _ in changes],
                                          state=FollowUp.State.PENDING).values_list("ticket_id", flat=True))
    for ticket, at in changes:
        if ticket.pk in waiting:
            customer_replied(ticket, at)


def fire_followup(followup, now):
    """Run a follow-up its worker claimed: the ticket resurfaces; a nudge also gets its draft."""
    ticket = followup.ticket
    if followup.kind == FollowUp.Kind.SNOOZE:
        Ticket.objects.filter(pk=ticket.pk, snoozed_until=followup.due_at).update(snoozed_until=None)
        outcome = "snooze ended"
    else:
        wrote = ticket.messages.filter(direction=Direction.INBOUND, created_at__gt=followup.created_at).exists()
        if wrote:
            outcome = "the customer wrote before the nudge was due"
        else:
            draft = propose_nudge(ticket, followup)
            FollowUp.objects.filter(pk=followup.pk).update(draft=draft)
            outcome = f"nudge drafted ({'draft ' + str(draft.pk) if draft else 'no customer message to answer'})"
    ticket.refresh_from_db()
    if ticket.status == Status.WAITING:
        from lbsup.tickets.actions import do_change_status

        do_change_status(SYSTEM, ticket, Status.OPEN, reason=f"follow-up due: {outcome}", at=now)
    FollowUp.objects.filter(pk=followup.pk).update(outcome=outcome[:300])
    record_event(ticket.workspace, SYSTEM, "ticket.resurfaced", ticket, kind=followup.kind, outcome=outcome,
                 followup=followup.pk, due_at=followup.due_at.isoformat())
    return outcome


def propose_nudge(ticket, followup):
    """The playbook's nudge as a Draft: approved (or not) by a person like any reply."""
    from lbsup.drafts.models import Draft

    message = ticket.messages.filter(direction=Direction.INBOUND).order_by("-created_at", "-id").first()
    if message is None:
        return None
    try:
        version, playbook = active_playbook(ticket.workspace)
    except NoActivePlaybook:
        version, playbook = None, None
    text = render_nudge(playbook.nudge if playbook else DEFAULT_NUDGE, ticket, playbook)
    Draft.objects.filter(ticket=ticket, state__in=[Draft.State.PROPOSED, Draft.State.SAVED]).update(
        state=Draft.State.SUPERSEDED)
    draft = Draft.objects.create(
        workspace_id=ticket.workspace_id, ticket=ticket, message=message, playbook_version=version,
        category=ticket.category, reply_id="nudge", source="template", proposed_text=text, text=text,
    )
    record_event(ticket.workspace, SYSTEM, "draft.proposed", draft, ticket=ticket.number, reply="nudge",
                 source="template", missing=[])
    return draft


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render_nudge(template, ticket, playbook):
    contact = ticket.contact
    name = contact.name or ""
    values = _Blank(customer_name=name, first_name=name.split(" ")[0] if name else "",
                    customer_email=contact.primary_email, business_name=ticket.workspace.name)
    if playbook is not None:
        business = playbook.business
        values.update(business_name=business.name, business_phone=business.phone, business_address=business.address,
                      business_hours=business.hours, business_website=business.website)
        values["greeting"] = string.Formatter().vformat(playbook.tone.greeting, (), values) if name else (
            playbook.tone.greeting.split("{")[0].strip().rstrip(",") + ",")
        values["sign_off"] = playbook.tone.sign_off
    else:
        values.update(greeting=f"Hi {name}," if name else "Hello,", sign_off=ticket.workspace.name)
    return string.Formatter().vformat(template, (), values).strip()
