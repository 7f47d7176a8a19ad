"""What the desk shows about clocks and follow-ups: one call per ticket, one per workspace.

    {% with card=ticket_card %}  ← views call ticket_card(ticket, now) and pass it along
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .models import FollowUp, SlaEvent
from .sla import CLOSED, pending_clock, remind_before, sla_state


@dataclass(frozen=True)
class TicketCard:
    sla: str  # ok | due_soon | overdue | paused | none
    clock: str | None  # which clock is next: first_response | next_response | resolution
    due_at: dt.datetime | None
    snoozed_until: dt.datetime | None
    followups: list = field(default_factory=list)  # pending FollowUp rows
    alerts: list = field(default_factory=list)  # fired SlaEvent rows, newest first
    recurring: object | None = None  # lbsup.crm.models.RecurringIssue


def ticket_card(ticket, now=None) -> TicketCard:
    now = now or timezone.now()
    pending = pending_clock(ticket)
    from lbsup.crm.models import RecurringIssue

    return TicketCard(
        sla=sla_state(ticket, now), clock=pending[0] if pending else None, due_at=ticket.due_at,
        snoozed_until=ticket.snoozed_until if ticket.snoozed_until and ticket.snoozed_until > now else None,
        followups=list(open_followups(ticket=ticket)),
        alerts=list(SlaEvent.objects.filter(ticket=ticket, fired_at__isnull=False).order_by("-fired_at")[:5]),
        recurring=RecurringIssue.objects.filter(ticket=ticket).first(),
    )


def open_followups(*, ticket=None, contact=None, workspace=None):
    followups = FollowUp.objects.filter(state=FollowUp.State.PENDING).select_related("ticket", "created_by")
    if ticket is not None:
        followups = followups.filter(ticket=ticket)
    if contact is not None:
        followups = followups.filter(ticket__contact=contact)
    if workspace is not None:
        followups = followups.filter(workspace=workspace)
    return followups.order_by("due_at")


def sla_queue(workspace, now, limit=200):
    """(overdue, due_soon) open tickets, most urgent first, for the desk's badges and this app's page."""
    from lbsup.tickets.models import Ticket

    running = (Ticket.objects.filter(workspace=workspace, due_at__isnull=False, sla_paused_since__isnull=True)
               .exclude(status__in=CLOSED).select_related("contact", "assignee", "team"))
    overdue = list(running.filter(due_at__lte=now).order_by("due_at", "-priority")[:limit])
    due_soon = list(running.filter(due_at__gt=now, due_at__lte=now + remind_before()).order_by("due_at")[:limit])
    return overdue, due_soon


def is_snoozed(ticket, now=None) -> bool:
    """For the queue: hide snoozed tickets until they resurface."""
    now = now or timezone.now()
    return ticket.snoozed_until is not None and ticket.snoozed_until > now
