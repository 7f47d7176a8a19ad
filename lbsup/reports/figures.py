"""The daily summary's figures, each with the tickets behind it.

Definitions (also shown on the page, so nobody has to guess what a number means):
- a ticket belongs to a day when it was opened between local midnight and the next local midnight;
- new customer: the contact has no earlier ticket in this workspace; returning: they have one;
- escalations: tickets escalated during the day (audit events), grouped by the first rule of each;
- complaints: tickets opened that day in a complaint category, or whose triage read a complaint
  score of COMPLAINT_SCORE or more;
- SLA met %: tickets whose due time (from their SLA clock, lbsup.followups) fell in the day, and
  which of them were answered (resolved) by then; a due time still in the future is not counted yet;
- median times: first responses (resolutions) that happened during the day, from ticket opening;
- recurring issues: tickets opened that day that lbsup.crm flagged as a contact's same issue again
  (the playbook's repeat_contacts rule, else 3 tickets in 14 days);
- follow-ups: pending snoozes and nudges set before the day ended; overdue when their time had come;
- sales leads: leads opened or moved during the day, by the stage they are in now.
"""

from __future__ import annotations

import datetime
import re
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Min, Q
from django.utils import timezone

from lbsup.audit.models import AuditEvent
from lbsup.tickets.models import Channel, Ticket
from lbsup.triage.models import TriageRecord

from .days import day_bounds

COMPLAINT_SCORE = 0.5
COMPLAINT_CATEGORY = re.compile(r"complain", re.IGNORECASE)
SLA_LOOKBACK_DAYS = 60  # a due time can fall weeks after the ticket opened
CHART_DAYS = 30
NO_CATEGORY = "none"



@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | int | None
    ticket_ids: tuple[int, ...] = ()
    unit: str = ""  # "", "%", "h"

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.unit == "%":
            return f"{self.value:.0f}%"
        if self.unit == "h":
            return f"{self.value:.1f} h"
        return str(self.value)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: tuple[Figure, ...]
    available: bool = True
    note: str = ""


@dataclass(frozen=True)
class DayCount:
    date: datetime.date
    count: int


@dataclass(frozen=True)
class DailySummaryData:
    workspace: str
    date: datetime.date
    timezone: str
    start: datetime.datetime
    end: datetime.datetime
    sections: tuple[Section, ...]
    overview: str
    volume_history: tuple[DayCount, ...] = ()
    figures: dict[str, Figure] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self.figures.update({f.key: f for s in self.sections for f in s.figures})

    def figure(self, key: str) -> Figure:
        return self.figures[key]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("figures")
        return _jsonable(data)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def build_summary(workspace, day: datetime.date, *, now: datetime.datetime | None = None) -> DailySummaryData:
    now = now or timezone.now()
    tz = workspace.tz
    start, end = day_bounds(tz, day)
    opened = list(
        Ticket.objects.filter(workspace=workspace, created_at__gte=start, created_at__lt=end)
        .order_by("created_at", "id")
        .values("id", "channel", "category", "contact_id", "created_at")
    )
    sections = [
        _volume(opened),
        _channels(opened),
        _categories(opened),
        _customers(workspace, opened, start),
        _escalations(workspace, start, end),
        _complaints(opened),
        _sla(workspace, start, min(end, now)),
        _times(workspace, start, end),
        _followups(workspace, min(end, now)),
        _recurring(workspace, start, end),
        _leads(workspace, start, end),
    ]
    history = volume_history(workspace, day)
    return DailySummaryData(
        workspace=workspace.slug, date=day, timezone=workspace.timezone, start=start, end=end,
        sections=tuple(sections), overview=overview(day, sections), volume_history=history,
    )


def _ids(rows) -> tuple[int, ...]:
    return tuple(r["id"] for r in rows)


def _grouped(rows, key_of) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for row in rows:
        groups.setdefault(key_of(row), []).append(row["id"])
    return groups


def _volume(opened) -> Section:
    return Section("volume", "Tickets opened", (Figure("volume", "Tickets opened", len(opened), _ids(opened)),))


def _channels(opened) -> Section:
    labels = dict(Channel.choices)
    groups = _grouped(opened, lambda r: r["channel"])
    figures = tuple(
        Figure(f"channel:{channel}", labels.get(channel, channel), len(ids), tuple(ids))
        for channel, ids in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    return Section("channel", "By channel", figures)


def _categories(opened) -> Section:
    groups = _grouped(opened, lambda r: r["category"] or NO_CATEGORY)
    figures = tuple(
        Figure(f"category:{category}", "not categorized" if category == NO_CATEGORY else category, len(ids),
               tuple(ids))
        for category, ids in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    return Section("category", "By category", figures)


def _customers(workspace, opened, start) -> Section:
    contacts = {r["contact_id"] for r in opened}
    first_seen = dict(
        Ticket.objects.filter(workspace=workspace, contact_id__in=contacts)
        .values("contact_id").annotate(first=Min("created_at")).values_list("contact_id", "first")
    )
    new = [r["id"] for r in opened if first_seen[r["contact_id"]] >= start]
    returning = [r["id"] for r in opened if first_seen[r["contact_id"]] < start]
    return Section("customers", "Customers", (
        Figure("customers:new", "New customers' tickets", len(new), tuple(new)),
        Figure("customers:returning", "Returning customers' tickets", len(returning), tuple(returning)),
    ))


def _reason_rule(reason) -> str:
    if isinstance(reason, dict):
        return str(reason.get("rule") or "unspecified")
    return str(reason or "unspecified")[:80]


def _escalations(workspace, start, end) -> Section:
    events = AuditEvent.objects.filter(
        workspace=workspace, verb="ticket.escalated", target_type="ticket", created_at__gte=start, created_at__lt=end,
    ).order_by("created_at", "id").values_list("target_id", "data")
    by_rule: dict[str, list[int]] = {}
    every: list[int] = []
    for target_id, data in events:
        ticket_id = int(target_id)
        if ticket_id in every:
            continue
        every.append(ticket_id)
        reasons = (data or {}).get("reasons") or ["unspecified"]
        by_rule.setdefault(_reason_rule(reasons[0]), []).append(ticket_id)
    figures = [Figure("escalations", "Escalations", len(every), tuple(every))]
    figures += [
        Figure(f"escalation:{rule}", rule.replace("_", " "), len(ids), tuple(ids))
        for rule, ids in sorted(by_rule.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    return Section("escalations", "Escalations and their reasons", tuple(figures))


def _complaints(opened) -> Section:
    ids = [r["id"] for r in opened]
    scored = {
        ticket_id
        for ticket_id, result in TriageRecord.objects.filter(ticket_id__in=ids).values_list("ticket_id", "result")
        if float((result or {}).get("complaint") or 0) >= COMPLAINT_SCORE
    }
    complaints = [r["id"] for r in opened if r["id"] in scored or COMPLAINT_CATEGORY.search(r["category"] or "")]
    return Section("complaints", "Complaints", (Figure("complaints", "Complaints", len(complaints),
                                                       tuple(complaints)),))


def _sla_calendar(workspace):
    from lbsup.followups.sla import calendar_for
    from lbsup.playbooks.active import NoActivePlaybook, active_playbook

    try:
        playbook = active_playbook(workspace)[1]
    except NoActivePlaybook:
        playbook = None
    return calendar_for(workspace, playbook)


def _due_times(workspace, start, end):
    """(ticket id, first response due, resolution due, first_response_at, resolved_at) for tickets that
    may be due in the day. The ticket's due columns are cleared once a clock stops (followups), so the
    due times are recomputed from each ticket's SLA clock: cycle start + target + paused hours."""
    from lbsup.followups.business_time import BusinessHoursError
    from lbsup.followups.models import TicketClock

    calendar = _sla_calendar(workspace)
    clocks = TicketClock.objects.filter(
        ticket__workspace=workspace, ticket__created_at__gte=start - datetime.timedelta(days=SLA_LOOKBACK_DAYS),
        ticket__created_at__lt=end,
    ).select_related("ticket").order_by("ticket_id")
    rows = []
    for clock in clocks:
        ticket = clock.ticket
        try:
            first_due = calendar.add(clock.cycle_started_at, clock.first_response_hours + clock.paused_hours)
            resolution_due = calendar.add(clock.cycle_started_at, clock.resolution_hours + clock.paused_hours)
        except BusinessHoursError:  # no opening hours at all: there is no due time to measure
            continue
        rows.append((ticket.pk, first_due, resolution_due, ticket.first_response_at, ticket.resolved_at))
    return rows


def _sla_figures(kind, measured) -> list[Figure]:
    met = [pk for pk, done, due in measured if done is not None and done <= due]
    missed = [pk for pk, done, due in measured if pk not in met]
    pct = round(100 * len(met) / len(measured), 1) if measured else None
    label = kind.replace("_", " ").capitalize()
    return [
        Figure(f"sla:{kind}", f"{label} on time", pct, tuple(sorted(pk for pk, _, _ in measured)), unit="%"),
        Figure(f"sla:{kind}:met", f"{label} met", len(met), tuple(met)),
        Figure(f"sla:{kind}:missed", f"{label} missed", len(missed), tuple(missed)),
    ]


def _sla(workspace, start, until) -> Section:
    rows = _due_times(workspace, start, until)
    first = [(pk, answered, due) for pk, due, _, answered, _ in rows if start <= due < until]
    resolution = [(pk, resolved, due) for pk, _, due, _, resolved in rows if start <= due < until]
    return Section("sla", "Service levels", tuple(_sla_figures("first_response", first)
                                                  + _sla_figures("resolution", resolution)))


def _median_hours(workspace, kind, done_field, start, end) -> Figure:
    rows = Ticket.objects.filter(
        workspace=workspace, **{f"{done_field}__gte": start, f"{done_field}__lt": end}
    ).order_by("id").values("id", "created_at", done_field)
    hours = [(r[done_field] - r["created_at"]).total_seconds() / 3600 for r in rows]
    value = round(statistics.median(hours), 2) if hours else None
    label = kind.replace("_", " ")
    return Figure(f"time:{kind}", f"Median {label} time", value, _ids(rows), unit="h")


def _times(workspace, start, end) -> Section:
    return Section("times", "How fast", (
        _median_hours(workspace, "first_response", "first_response_at", start, end),
        _median_hours(workspace, "resolution", "resolved_at", start, end),
    ))


def _followups(workspace, until) -> Section:
    """Follow-ups (snoozes and nudges) still pending that were set before the end of the day;
    overdue: their time had come by then."""
    from lbsup.followups.models import FollowUp

    pending = list(FollowUp.objects.filter(workspace=workspace, state=FollowUp.State.PENDING, created_at__lt=until)
                   .order_by("due_at", "id").values_list("ticket_id", "due_at"))
    open_ids = _unique(ticket_id for ticket_id, _ in pending)
    overdue_ids = _unique(ticket_id for ticket_id, due in pending if due < until)
    return Section("followups", "Follow-ups", (
        Figure("followups:open", "Open follow-ups", len(open_ids), open_ids),
        Figure("followups:overdue", "Overdue follow-ups", len(overdue_ids), overdue_ids),
    ))


def _leads(workspace, start, end) -> Section:
    """Sales leads opened or moved during the day, by the stage they are in now."""
    from lbsup.crm.models import Lead

    labels = dict(Lead.Stage.choices)
    rows = Lead.objects.filter(workspace=workspace).filter(
        Q(created_at__gte=start, created_at__lt=end) | Q(updated_at__gte=start, updated_at__lt=end)
    ).order_by("ticket_id").values_list("stage", "ticket_id")
    by_stage: dict[str, list[int]] = {}
    for stage, ticket_id in rows:
        by_stage.setdefault(stage, []).append(ticket_id)
    return Section("leads", "Sales leads by stage", tuple(
        Figure(f"leads:{stage}", labels[stage], len(by_stage[stage]), tuple(by_stage[stage]))
        for stage in Lead.Stage.values if stage in by_stage
    ))


def _recurring(workspace, start, end) -> Section:
    """Tickets of the day the CRM flagged as the same contact's same issue again (lbsup.crm.recurring)."""
    from lbsup.crm.models import RecurringIssue

    by_category: dict[str, list[int]] = {}
    for category, ticket_id in RecurringIssue.objects.filter(
        workspace=workspace, ticket__created_at__gte=start, ticket__created_at__lt=end
    ).order_by("ticket_id").values_list("category", "ticket_id"):
        by_category.setdefault(category, []).append(ticket_id)
    return Section("recurring", "Recurring issues", tuple(
        Figure(f"recurring:{category}", category, len(ids), tuple(ids))
        for category, ids in sorted(by_category.items(), key=lambda item: (-len(item[1]), item[0]))
    ))


def _unique(ids) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


def volume_history(workspace, day: datetime.date, days: int = CHART_DAYS) -> tuple[DayCount, ...]:
    """Tickets opened per local day over the `days` days ending on `day` (zeros included)."""
    tz = workspace.tz
    first = day - datetime.timedelta(days=days - 1)
    start, _ = day_bounds(tz, first)
    _, end = day_bounds(tz, day)
    counts: dict[datetime.date, int] = {}
    for created in Ticket.objects.filter(workspace=workspace, created_at__gte=start, created_at__lt=end) \
            .values_list("created_at", flat=True):
        local = created.astimezone(tz).date()
        counts[local] = counts.get(local, 0) + 1
    return tuple(DayCount(first + datetime.timedelta(days=n), counts.get(first + datetime.timedelta(days=n), 0))
                 for n in range(days))


def _plural(count, word, plural=None):
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def overview(day: datetime.date, sections) -> str:
    """A few plain sentences assembled from the figures, for someone reading on a phone."""
    by_key = {s.key: s for s in sections}
    volume = by_key["volume"].figures[0].value
    sentences = []
    if not volume:
        sentences.append(f"No new tickets on {day:%A %-d %B %Y}.")
    else:
        channels = ", ".join(f"{f.value} by {f.label.lower()}" for f in by_key["channel"].figures)
        sentences.append(f"On {day:%A %-d %B %Y}, {_plural(volume, 'new ticket')} arrived ({channels}).")
        new = by_key["customers"].figures[0].value
        if new:
            sentences.append(f"{new} of them came from new customers.")
        top = next((f for f in by_key["category"].figures if not f.key.endswith(NO_CATEGORY)), None)
        if top:
            sentences.append(f"The most common topic was {top.label} ({top.value}).")
    escalations = by_key["escalations"].figures[0]
    if escalations.value:
        rules = ", ".join(f.label for f in by_key["escalations"].figures[1:])
        sentences.append(f"{_plural(escalations.value, 'ticket')} needed a lead ({rules}).")
    complaints = by_key["complaints"].figures[0].value
    if complaints:
        sentences.append(f"{_plural(complaints, 'complaint')} came in.")
    sla = {f.key: f for f in by_key["sla"].figures}
    first = sla["sla:first_response"]
    if first.value is not None:
        sentences.append(
            f"First replies were on time for {sla['sla:first_response:met'].value} of {len(first.ticket_ids)} "
            f"tickets ({first.display})."
        )
    recurring = sum(f.value for f in by_key["recurring"].figures)
    if recurring:
        sentences.append(f"{_plural(recurring, 'customer')} wrote again about the same issue.")
    followups = by_key["followups"]
    if followups.available and followups.figures[1].value:
        overdue = followups.figures[1].value
        sentences.append(f"{_plural(overdue, 'follow-up')} {'is' if overdue == 1 else 'are'} overdue.")
    return " ".join(sentences)
