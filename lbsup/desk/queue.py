"""The queue: named views over a workspace's tickets, their counts, and keyset pagination
in the desk's order (SLA due time, no SLA last, then priority, then newest).

Keyset (cursor) pagination instead of OFFSET: page 2,000 costs the same as page 1, and no
page needs a COUNT over every ticket."""

import base64
import datetime
import json
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from lbsup.tickets.models import Status, Ticket
from lbsup.workspaces.models import Role, Team

from . import search
from .models import QueueTally

PAGE_SIZE = 50
DUE_SOON = datetime.timedelta(hours=2)
ACTIVE = (Status.NEW, Status.OPEN, Status.ESCALATED)  # the ball is in our court
OPEN = (*ACTIVE, Status.WAITING)
EVERYONE_ROLES = (Role.LEAD, Role.ADMIN)


@dataclass(frozen=True)
class QueueView:
    key: str  # what goes into ?view=
    label: str
    count: int | None = None


@dataclass(frozen=True)
class Cursor:
    due_at: datetime.datetime | None
    priority: int
    id: int

    def encode(self) -> str:
        data = [self.due_at.isoformat() if self.due_at else None, self.priority, self.id]
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor | None":
        try:
            due, priority, pk = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return cls(parse_datetime(due) if due else None, int(priority), int(pk))
        except (ValueError, TypeError, json.JSONDecodeError):
            return None  # a mangled cursor starts from the top instead of failing

    @classmethod
    def of(cls, ticket) -> "Cursor":
        return cls(ticket.due_at, ticket.priority, ticket.pk)


@dataclass
class QueuePage:
    view: str
    tickets: list
    next_cursor: str | None
    query: search.SearchQuery
    views: list[QueueView] = field(default_factory=list)
    teams: list[QueueView] = field(default_factory=list)
    categories: list[QueueView] = field(default_factory=list)
    people: list[QueueView] = field(default_factory=list)


ORDER = (F("due_at").asc(nulls_last=True), F("priority").desc(), F("id").desc())
REVERSE_ORDER = (F("due_at").desc(nulls_first=True), F("priority").asc(), F("id").asc())


def after(cursor: Cursor | None) -> list[Q]:
    """Tickets after the cursor in ORDER, as conditions to read in turn, each a range of a
    queue-order index: one condition ORing them made the database walk the queue from the top
    to the cursor (80 ms for the j/k neighbours of a ticket in the middle of 70,000)."""
    if cursor is None:
        return [Q()]
    no_sla = Q(due_at__isnull=True)
    same_due = no_sla if cursor.due_at is None else Q(due_at=cursor.due_at)
    parts = [same_due & Q(priority=cursor.priority, id__lt=cursor.id), same_due & Q(priority__lt=cursor.priority)]
    if cursor.due_at is not None:
        parts += [Q(due_at__gt=cursor.due_at), no_sla]
    return parts


def before(cursor: Cursor) -> list[Q]:
    """Tickets before the cursor in REVERSE_ORDER (the nearest first), split like after()."""
    same_due = Q(due_at__isnull=True) if cursor.due_at is None else Q(due_at=cursor.due_at)
    parts = [same_due & Q(priority=cursor.priority, id__gt=cursor.id), same_due & Q(priority__gt=cursor.priority)]
    return parts + [Q(due_at__isnull=False) if cursor.due_at is None else Q(due_at__lt=cursor.due_at)]


def first_ids(tickets, parts: list[Q], order, query: search.SearchQuery, limit: int) -> list[int]:
    return search.first_matching_ids([tickets.filter(part).order_by(*order) for part in parts], query, limit)


def view_filter(membership, view: str, now=None) -> Q:
    """The tickets of one named view. Raises PermissionDenied for someone else's queue
    unless a lead or admin asks; unknown views fall back to all open tickets."""
    now = now or timezone.now()
    kind, _, value = view.partition(":")
    if kind == "mine":
        return Q(assignee=membership.user, status__in=OPEN)
    if kind == "unassigned":
        return Q(assignee__isnull=True, status__in=ACTIVE)
    if kind == "escalated":
        return Q(status=Status.ESCALATED)
    if kind == "due":
        return Q(status__in=ACTIVE, due_at__lte=now + DUE_SOON)
    if kind == "waiting":
        return Q(status=Status.WAITING)
    if kind == "team" and value:
        return Q(team__slug=value, status__in=OPEN)
    if kind == "category" and value:
        return Q(category=value, status__in=OPEN)
    if kind == "person" and value:
        if membership.role not in EVERYONE_ROLES:
            raise PermissionDenied("Only leads and admins open someone else's queue")
        return Q(assignee__username=value, status__in=OPEN)
    if kind == "closed":
        return Q(status__in=(Status.RESOLVED, Status.CLOSED))
    if kind == "status" and value in Status.values:
        return Q(status=value)
    return Q(status__in=OPEN)


def view_tickets(membership, view: str):
    return Ticket.objects.filter(workspace=membership.workspace).filter(view_filter(membership, view))


def page(membership, view: str = "open", *, text: str = "", cursor: str = "", size: int = PAGE_SIZE) -> QueuePage:
    query = search.parse(text)
    position = Cursor.decode(cursor) if cursor else None
    # Order and cut on the narrow ticket rows first, join the display columns for one page only:
    # joining before the sort made SQLite carry every open ticket's customer through it.
    ids = first_ids(view_tickets(membership, view), after(position), ORDER, query, size + 1)
    more = len(ids) > size
    found = Ticket.objects.select_related("contact", "assignee", "team").in_bulk(ids[:size])
    rows = [found[pk] for pk in ids[:size]]
    return QueuePage(view=view, tickets=rows, next_cursor=Cursor.of(rows[-1]).encode() if more else None, query=query)


def neighbours(membership, view: str, ticket, text: str = ""):
    """(previous, next) ticket numbers around a ticket in a queue view, for j/k on the ticket page."""
    tickets, query, position = view_tickets(membership, view), search.parse(text), Cursor.of(ticket)
    previous = first_ids(tickets, before(position), REVERSE_ORDER, query, 1)
    following = first_ids(tickets, after(position), ORDER, query, 1)
    numbers = dict(Ticket.objects.filter(pk__in=previous + following).values_list("pk", "number"))
    return (numbers[previous[0]] if previous else None), (numbers[following[0]] if following else None)


def counts(membership, now=None) -> dict:
    """Counts for every view: sums over the queue tally (kept by triggers, see QueueTally), plus
    one indexed count of what is due soon, the only count that moves with the clock."""
    now = now or timezone.now()
    workspace = membership.workspace
    buckets = (QueueTally.objects.filter(workspace=workspace, status__in=OPEN)
               .values_list("status", "team_id", "category", "assignee_id").annotate(n=Sum("tickets")).order_by())
    views, by_team, by_category, by_person = Counter(), Counter(), Counter(), Counter()
    for status, team_id, category, assignee_id, n in buckets:
        views["open"] += n
        if status in (Status.ESCALATED, Status.WAITING):
            views[status] += n
        if assignee_id is None and status in ACTIVE:
            views["unassigned"] += n
        if assignee_id == membership.user_id:
            views["mine"] += n
        by_team[team_id] += n
        by_category[category] += n
        by_person[assignee_id] += n
    del by_team[None], by_person[None], by_category[""]  # no team, nobody, no category: not views
    teams = Team.objects.filter(pk__in=+by_team).order_by("name").values_list("pk", "slug", "name")
    names = get_user_model().objects.filter(pk__in=+by_person).values_list("pk", "username")
    return {
        **{view: views[view] for view in ("open", "unassigned", "escalated", "waiting", "mine")},
        "due": Ticket.objects.filter(workspace=workspace, status__in=ACTIVE, due_at__lte=now + DUE_SOON).count(),
        "teams": [(slug, name, by_team[pk]) for pk, slug, name in teams],
        "categories": sorted((+by_category).items()),
        "people": sorted((username, by_person[pk]) for pk, username in names),
    }


def views_with_counts(membership) -> tuple[list[QueueView], list[QueueView], list[QueueView], list[QueueView]]:
    c = counts(membership)
    views = [
        QueueView("open", "All open", c["open"]),
        QueueView("mine", "Mine", c["mine"]),
        QueueView("unassigned", "Unassigned", c["unassigned"]),
        QueueView("escalated", "Escalated", c["escalated"]),
        QueueView("due", "Due soon / overdue", c["due"]),
        QueueView("waiting", "Waiting on customer", c["waiting"]),
        QueueView("closed", "Resolved & closed"),
    ]
    teams = [QueueView(f"team:{slug}", name, n) for slug, name, n in c["teams"]]
    categories = [QueueView(f"category:{slug}", slug.replace("_", " "), n) for slug, n in c["categories"]]
    people = [QueueView(f"person:{name}", name, n) for name, n in c["people"]] if membership.role in EVERYONE_ROLES else []
    return views, teams, categories, people
