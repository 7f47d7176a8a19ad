"""Recurring issues: the same contact, the same category, several tickets within a window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import ASSISTANT

from .models import RecurringIssue

DEFAULT_COUNT, DEFAULT_DAYS = 3, 14


@dataclass(frozen=True)
class RecurringRule:
    count: int
    within_days: int
    rule: str


def recurring_rule(playbook) -> RecurringRule:
    """The playbook's repeat_contacts escalation rule if it has one, else 3 times in 14 days."""
    for rule in getattr(playbook, "escalation_rules", ()) or ():
        if rule.repeat is not None:
            return RecurringRule(rule.repeat.count, rule.repeat.within_days, rule.id)
    return RecurringRule(DEFAULT_COUNT, DEFAULT_DAYS, "default")


def same_issue_tickets(ticket, rule: RecurringRule, at):
    from lbsup.tickets.models import Ticket

    since = at - dt.timedelta(days=rule.within_days)
    return (Ticket.objects.filter(contact_id=ticket.contact_id, category=ticket.category, created_at__gte=since,
                                  created_at__lte=max(at, ticket.created_at)).order_by("created_at"))


def do_flag_recurring(ticket, *, at=None):
    """Flag the ticket (and so its contact's card) when it is the Nth of its kind in the window."""
    from lbsup.playbooks.active import NoActivePlaybook, active_playbook

    if not ticket.category or ticket.category == "unsure":
        return None
    existing = RecurringIssue.objects.filter(ticket=ticket).first()
    if existing:
        return existing
    try:
        playbook = active_playbook(ticket.workspace)[1]
    except NoActivePlaybook:
        playbook = None
    rule = recurring_rule(playbook)
    at = at or timezone.now()
    numbers = list(same_issue_tickets(ticket, rule, at).values_list("number", flat=True))
    if len(numbers) < rule.count:
        return None
    try:
        with transaction.atomic():
            flag = RecurringIssue.objects.create(
                workspace_id=ticket.workspace_id, contact_id=ticket.contact_id, ticket=ticket,
                category=ticket.category, count=len(numbers), within_days=rule.within_days, ticket_numbers=numbers,
                rule=rule.rule, created_at=at)
            record_event(ticket.workspace, ASSISTANT, "ticket.recurring_issue", ticket, category=ticket.category,
                         count=len(numbers), within_days=rule.within_days, tickets=numbers, rule=rule.rule)
    except IntegrityError:
        return RecurringIssue.objects.get(ticket=ticket)
    return flag
