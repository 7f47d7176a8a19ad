"""What each queue row shows at a glance beyond the ticket's own columns: the customer's
frustration from the latest triage, and the SLA state."""

from dataclasses import dataclass

from django.db.models.fields.json import KT
from django.utils import timezone

from lbsup.triage.models import TriageRecord

from .queue import DUE_SOON

FRUSTRATED = 0.6
ANNOYED = 0.35


@dataclass(frozen=True)
class SlaState:
    key: str  # overdue | due_soon | on_track | paused | none
    label: str


def sla_state(ticket, now=None) -> SlaState:
    now = now or timezone.now()
    if ticket.sla_paused_since:
        return SlaState("paused", "SLA paused")
    if ticket.due_at is None or not ticket.is_open:
        return SlaState("none", "no SLA")
    if ticket.due_at <= now:
        return SlaState("overdue", "overdue")
    if ticket.due_at <= now + DUE_SOON:
        return SlaState("due_soon", "due soon")
    return SlaState("on_track", "on track")


def mood(frustration: float | None) -> str:
    if frustration is None:
        return ""
    if frustration >= FRUSTRATED:
        return "frustrated"
    if frustration >= ANNOYED:
        return "annoyed"
    return "calm"


def decorate(tickets, now=None):
    """Sets .frustration, .mood and .sla on each ticket with one query for the whole page."""
    now = now or timezone.now()
    latest = {}
    records = (TriageRecord.objects.filter(ticket_id__in=[t.pk for t in tickets])
               .annotate(frustration=KT("result__frustration")).order_by("created_at", "id")
               .values_list("ticket_id", "frustration"))
    for ticket_id, frustration in records:
        latest[ticket_id] = frustration
    for ticket in tickets:
        value = latest.get(ticket.pk)
        try:
            ticket.frustration = float(value) if value is not None else None
        except ValueError:
            ticket.frustration = None
        ticket.mood = mood(ticket.frustration)
        ticket.sla = sla_state(ticket, now)
    return tickets
