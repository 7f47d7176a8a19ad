"""SLA clocks: targets from the playbook, counted in the workspace's business hours.

Due times are stored in the ticket's columns so "what is due" is one indexed query;
TicketClock keeps what they are computed from (cycle start, paused hours, targets).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from lbsup.assist.playbook import PRIORITIES, SlaTargets
from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM
from lbsup.core.rows import insert_rows, update_rows
from lbsup.playbooks.active import NoActivePlaybook, active_playbook
from lbsup.tickets.models import Direction, Status, Ticket

from .business_time import (
    DEFAULT_HOURS,
    BusinessCalendar,
    hours_from_mapping,
    hours_from_text,
)
from .models import Clock, TicketClock

# The playbook's own fallback for a category without targets; used for uncategorized tickets too.
DEFAULT_TARGETS = SlaTargets(first_response=8.0, next_response=16.0, resolution=40.0)
CLOSED = (Status.RESOLVED, Status.CLOSED)
DUE_COLUMNS = {Clock.FIRST_RESPONSE: "first_response_due_at", Clock.NEXT_RESPONSE: "next_response_due_at",
               Clock.RESOLUTION: "resolution_due_at"}


def remind_before() -> dt.timedelta:
    """How long before a due time the assignee is reminded and the desk shows "due soon"."""
    return dt.timedelta(minutes=getattr(settings, "LBSUP_SLA_REMIND_BEFORE_MINUTES", 60))


def _playbook(workspace):
    try:
        return active_playbook(workspace)[1]
    except NoActivePlaybook:
        return None


def calendar_for(workspace, playbook=None) -> BusinessCalendar:
    """Opening hours: the workspace's own, else the playbook's (if machine-readable), else Mon–Fri 9–17.
    Holidays come from the playbook."""
    hours = hours_from_mapping(workspace.business_hours) if workspace.business_hours else {}
    if not hours and playbook is not None:
        hours = hours_from_text(playbook.business.hours)
    holidays = frozenset(playbook.holidays) if playbook is not None else frozenset()
    return BusinessCalendar(workspace.timezone, hours or DEFAULT_HOURS, holidays)


def targets_for(ticket, playbook) -> tuple[SlaTargets, str]:
    priority = PRIORITIES[max(0, min(int(ticket.priority), len(PRIORITIES) - 1))]
    if playbook is not None and ticket.category:
        try:
            return playbook.category(ticket.category).sla_for(priority), f"{ticket.category}/{priority}"
        except KeyError:
            pass
    return DEFAULT_TARGETS, f"default/{priority}"


@dataclass(frozen=True)
class DueTimes:
    first_response: dt.datetime | None
    next_response: dt.datetime | None
    resolution: dt.datetime | None
    paused: bool

    @property
    def earliest(self) -> dt.datetime | None:
        if self.paused:
            return None
        pending = [d for d in (self.first_response, self.next_response, self.resolution) if d is not None]
        return min(pending, default=None)


def compute_due(ticket, clock: TicketClock, calendar: BusinessCalendar) -> DueTimes:
    if ticket.status in CLOSED:
        return DueTimes(None, None, None, paused=False)
    first = None
    if ticket.first_response_at is None:
        first = calendar.add(clock.cycle_started_at, clock.first_response_hours + clock.paused_hours)
    following = None
    # Before the first response only the first-response clock runs: no need to look for the unanswered message.
    unanswered = _first_unanswered_customer_message(ticket) if ticket.first_response_at is not None else None
    if unanswered is not None:
        following = calendar.add(max(unanswered, clock.cycle_started_at), clock.next_response_hours)
    resolution = calendar.add(clock.cycle_started_at, clock.resolution_hours + clock.paused_hours)
    return DueTimes(first, following, resolution, paused=ticket.sla_paused_since is not None)


def _first_unanswered_customer_message(ticket):
    messages = ticket.messages.exclude(direction=Direction.NOTE)
    last_reply = messages.filter(direction=Direction.OUTBOUND).order_by("-created_at").values_list(
        "created_at", flat=True).first()
    inbound = messages.filter(direction=Direction.INBOUND)
    if last_reply is not None:
        inbound = inbound.filter(created_at__gt=last_reply)
    return inbound.order_by("created_at").values_list("created_at", flat=True).first()


def workspace_plan(workspace):
    """(playbook, calendar) for the workspace's clocks; a batch of mail looks them up once."""
    playbook = _playbook(workspace)
    return playbook, calendar_for(workspace, playbook)


@transaction.atomic
def do_recompute_sla(ticket, *, at=None, restart=False, actor=SYSTEM, plan=None):
    """Bring the ticket's SLA columns up to date after anything that moves a clock.

    restart=True: the customer wrote on a resolved/closed ticket; a new cycle begins at `at`.
    Entering `waiting` pauses the clocks; leaving it adds the paused business hours to them.
    plan: workspace_plan(ticket.workspace) when the caller already has it."""
    from django.utils import timezone

    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().select_related("workspace").get(pk=ticket.pk)
    # The ticket row is locked above, so nobody else creates its clock meanwhile; a new clock is
    # written once, below, with its targets (no get_or_create: that would be an insert and an update).
    clock = TicketClock.objects.filter(ticket=ticket).first()
    clock, due, columns = _recomputed(ticket, clock, at=at, restart=restart,
                                      plan=plan or workspace_plan(ticket.workspace))
    clock.save()
    if columns:
        Ticket.objects.filter(pk=ticket.pk).update(**columns)
        for name, value in columns.items():
            setattr(ticket, name, value)
        _record_sla_update(ticket, clock, columns, actor=actor, restart=restart)
    return ticket, due


@transaction.atomic
def do_recompute_sla_many(changes, *, plan, actor=SYSTEM):
    """do_recompute_sla (no restart) for many tickets of one workspace, e.g. a batch of mail: the
    tickets are locked and their clocks read with one query each, and written back in bulk.
    changes: [(ticket, time of its latest change)]. Returns the locked tickets, SLA columns up to date."""
    from django.utils import timezone

    known = {ticket.pk: (ticket, at) for ticket, at in changes}
    tickets = list(Ticket.objects.select_for_update().filter(pk__in=known).order_by("pk"))
    clocks = {clock.ticket_id: clock for clock in TicketClock.objects.filter(ticket_id__in=known)}
    new_clocks, old_clocks, moved = [], [], []
    for ticket in tickets:
        ticket.workspace = known[ticket.pk][0].workspace  # the same row; saves a join on a locked read
        clock, _, columns = _recomputed(ticket, clocks.get(ticket.pk), at=known[ticket.pk][1], restart=False,
                                        plan=plan)
        (old_clocks if clock.pk else new_clocks).append(clock)
        if columns:
            for name, value in columns.items():
                setattr(ticket, name, value)
            moved.append((ticket, clock, columns))
    insert_rows(TicketClock, new_clocks)  # their ids are not needed: the ticket finds its clock
    now = timezone.now()
    for clock in old_clocks:
        clock.updated_at = now
    update_rows(TicketClock, old_clocks, ["updated_at", *CLOCK_FIELDS])
    update_rows(Ticket, [ticket for ticket, _, _ in moved], SLA_COLUMNS)
    for ticket, clock, columns in moved:
        _record_sla_update(ticket, clock, columns, actor=actor, restart=False)
    return tickets


CLOCK_FIELDS = ["cycle_started_at", "paused_hours", "first_response_hours", "next_response_hours",
                "resolution_hours", "targets_from"]
SLA_COLUMNS = ["first_response_due_at", "next_response_due_at", "resolution_due_at", "due_at", "sla_paused_since"]


def _recomputed(ticket, clock, *, at, restart, plan):
    """(the clock brought up to date, unsaved; the due times; the ticket's SLA columns to write,
    or {} when they have not changed). Sets ticket.sla_paused_since."""
    playbook, calendar = plan
    targets, source = targets_for(ticket, playbook)
    if clock is None:
        clock = TicketClock(ticket=ticket, cycle_started_at=ticket.created_at)
    if restart:
        clock.cycle_started_at, clock.paused_hours = at, 0.0
    paused_since = ticket.sla_paused_since
    if ticket.status == Status.WAITING and paused_since is None:
        paused_since = at
    elif ticket.status != Status.WAITING and paused_since is not None:
        clock.paused_hours += calendar.between(paused_since, at)
        paused_since = None
    clock.first_response_hours, clock.next_response_hours, clock.resolution_hours = (
        targets.first_response, targets.next_response, targets.resolution)
    clock.targets_from = source
    before = {name: getattr(ticket, name) for name in SLA_COLUMNS}
    ticket.sla_paused_since = paused_since
    due = compute_due(ticket, clock, calendar)
    columns = {"first_response_due_at": due.first_response, "next_response_due_at": due.next_response,
               "resolution_due_at": due.resolution, "due_at": due.earliest, "sla_paused_since": paused_since}
    return clock, due, columns if (before != columns or restart) else {}


def _record_sla_update(ticket, clock, columns, *, actor, restart):
    record_event(ticket.workspace, actor, "ticket.sla_updated", ticket, targets=clock.targets_from, restart=restart,
                 paused=columns["sla_paused_since"] is not None, paused_hours=round(clock.paused_hours, 3),
                 **{name: value.isoformat() if value else None for name, value in columns.items()})


def sla_after_change(ticket, *, at=None, restart=False, plan=None):
    """The hook lbsup.tickets.actions calls; refreshes the caller's instance too."""
    fresh, _ = do_recompute_sla(ticket, at=at, restart=restart, plan=plan)
    _copy_sla_columns(fresh, ticket)


def sla_after_changes(changes, *, plan):
    """sla_after_change for many tickets of one workspace (no restart)."""
    callers = {ticket.pk: ticket for ticket, _ in changes}
    for fresh in do_recompute_sla_many(changes, plan=plan):
        _copy_sla_columns(fresh, callers[fresh.pk])


def _copy_sla_columns(source, target):
    for name in SLA_COLUMNS:
        setattr(target, name, getattr(source, name))


def sla_state(ticket, now) -> str:
    """"paused" | "overdue" | "due_soon" | "ok" | "none" (closed, or no clock running) for the desk."""
    if ticket.status in CLOSED:
        return "none"
    if ticket.sla_paused_since is not None:
        return "paused"
    if ticket.due_at is None:
        return "none"
    if ticket.due_at <= now:
        return "overdue"
    if ticket.due_at - now <= remind_before():
        return "due_soon"
    return "ok"


def pending_clock(ticket) -> tuple[str, dt.datetime] | None:
    """The clock that sets due_at, e.g. ("first_response", <due>), to say what is due."""
    if ticket.due_at is None:
        return None
    for clock, column in DUE_COLUMNS.items():
        if getattr(ticket, column) == ticket.due_at:
            return clock.value, ticket.due_at
    return None
