import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.tickets.actions import do_create_ticket
from lbsup.workspaces.models import Workspace

LA = ZoneInfo("America/Los_Angeles")
WEEKDAYS_9_TO_5 = {day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def local(*args):
    """A moment on the clinic's wall clock (America/Los_Angeles)."""
    return dt.datetime(*args, tzinfo=LA)


@pytest.fixture
def clinic(personas):
    """bright-smile open Mon–Fri 9:00–17:00 Los Angeles time."""
    Workspace.objects.filter(pk=personas.dental.pk).update(business_hours=WEEKDAYS_9_TO_5)
    personas.dental.refresh_from_db()
    return personas.dental


@pytest.fixture
def open_ticket(personas, clinic):
    """A ticket opened Friday 2025-03-07 15:00, two days before the March DST change."""
    def make(at=local(2025, 3, 7, 15), text="My crown feels loose, can someone call me?"):
        contact = personas.dental_ticket.contact
        return do_create_ticket(SYSTEM, clinic, contact=contact, subject="Loose crown", channel="email", text=text,
                                at=at)
    return make
