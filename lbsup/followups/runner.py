"""The minute-by-minute pass over due work. Safe to run on several workers at once:
every piece of work is claimed with a conditional UPDATE before anything is done."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM
from lbsup.tickets.models import Status, Ticket

from .actions import fire_followup
from .models import FollowUp, SlaEvent
from .sla import CLOSED, DUE_COLUMNS, remind_before

BATCH = 500


@dataclass
class RunReport:
    reminders: list[int] = field(default_factory=list)
    breaches: list[int] = field(default_factory=list)
    followups: list[int] = field(default_factory=list)


def run_due(now) -> RunReport:
    report = RunReport()
    run_sla(now, report)
    run_followups(now, report)
    return report


def run_sla(now, report: RunReport | None = None) -> RunReport:
    report = report or RunReport()
    horizon = now + remind_before()
    tickets = (Ticket.objects.filter(due_at__lte=horizon, sla_paused_since__isnull=True)
               .exclude(status__in=CLOSED).select_related("workspace", "team", "team__lead", "assignee")
               .order_by("due_at")[:BATCH])
    for ticket in tickets:
        for clock, column in DUE_COLUMNS.items():
            due = getattr(ticket, column)
            if due is None or due > horizon:
                continue
            kind = SlaEvent.Kind.BREACH if due <= now else SlaEvent.Kind.REMINDER
            event = _event(ticket, kind, clock, due)
            if SlaEvent.objects.filter(pk=event.pk, fired_at__isnull=True).update(fired_at=now):
                _fire(ticket, event, now)
                (report.breaches if kind == SlaEvent.Kind.BREACH else report.reminders).append(event.pk)
    return report


def _event(ticket, kind, clock, due):
    recipient = ticket.assignee if kind == SlaEvent.Kind.REMINDER else (ticket.team.lead if ticket.team else None)
    label = "due" if kind == SlaEvent.Kind.REMINDER else "was due"
    detail = f"{clock.label} {label} {due.astimezone(ticket.workspace.tz):%a %d %b %H:%M %Z}"
    try:
        with transaction.atomic():
            event, _ = SlaEvent.objects.get_or_create(
                ticket=ticket, kind=kind, clock=clock, clock_due_at=due,
                defaults={"workspace_id": ticket.workspace_id, "recipient": recipient, "detail": detail})
    except IntegrityError:  # another worker created it between our get and create
        event = SlaEvent.objects.get(ticket=ticket, kind=kind, clock=clock, clock_due_at=due)
    return event


def _fire(ticket, event, now):
    recipient = event.recipient.get_username() if event.recipient else None
    if event.kind == SlaEvent.Kind.REMINDER:
        record_event(ticket.workspace, SYSTEM, "sla.reminder", ticket, clock=event.clock,
                     due_at=event.clock_due_at.isoformat(), recipient=recipient, detail=event.detail)
        return
    record_event(ticket.workspace, SYSTEM, "sla.breached", ticket, clock=event.clock,
                 due_at=event.clock_due_at.isoformat(), recipient=recipient, detail=event.detail)
    if ticket.status != Status.ESCALATED:
        from lbsup.tickets.actions import do_escalate

        do_escalate(SYSTEM, ticket, reasons=[{"rule": "sla_breach", "evidence": [event.detail],
                                              "description": f"escalated to {recipient or 'the team'}"}],
                    team=ticket.team)
    from lbsup.webhooks.actions import do_emit

    do_emit(ticket.workspace, "sla.breached", {
        "ticket": ticket.number, "clock": event.clock, "due_at": event.clock_due_at.isoformat(),
        "recipient": recipient})


def run_followups(now, report: RunReport | None = None) -> RunReport:
    report = report or RunReport()
    due = FollowUp.objects.filter(state=FollowUp.State.PENDING, due_at__lte=now).select_related(
        "ticket", "ticket__workspace", "ticket__contact").order_by("due_at")[:BATCH]
    for followup in due:
        with transaction.atomic():
            if FollowUp.objects.filter(pk=followup.pk, state=FollowUp.State.PENDING).update(
                    state=FollowUp.State.DONE, fired_at=now):
                fire_followup(followup, now)
                report.followups.append(followup.pk)
    return report
