"""The desk's own writes. Presence heartbeats are deliberately not audit events: they are
refreshed every 20 seconds and say nothing about what was done to the ticket."""

import datetime

from django.utils import timezone

from .models import TicketViewer

PRESENCE_WINDOW = datetime.timedelta(seconds=45)  # two missed heartbeats and you are gone


def do_mark_viewing(ticket, user, *, editing=False, at=None):
    at = at or timezone.now()
    TicketViewer.objects.update_or_create(ticket=ticket, user=user, defaults={"seen_at": at, "editing": editing})


def do_leave(ticket, user):
    TicketViewer.objects.filter(ticket=ticket, user=user).delete()


def others_here(ticket, user, *, at=None):
    """Other people with this ticket open in the last 45 seconds, most recent first."""
    at = at or timezone.now()
    return list(
        TicketViewer.objects.filter(ticket=ticket, seen_at__gte=at - PRESENCE_WINDOW).exclude(user=user)
        .select_related("user").order_by("-seen_at")
    )
