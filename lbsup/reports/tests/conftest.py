"""A hand-counted day for bright-smile (America/Los_Angeles): Sunday 9 March 2025, the day
the clocks jump forward, so the day is 23 hours long (08:00 UTC to 07:00 UTC next day).

The practice is open every day 00:00–23:59 here, so SLA targets count (almost) wall-clock hours;
first response target 8 h and resolution 40 h (the defaults without a playbook) unless set below.

ticket  opened (UTC)   local         customer channel category     SLA (UTC)
before  Mar 9 07:30    Mar 8 23:30   ann      email   appointment     first reply due Mar 9 15:31, answered 08:30: met
t1      Mar 9 09:00    01:00 PST     ann      email   appointment  due 17:00, answered 11:00: met; resolution
                                                                   target 12 h, due 21:00, resolved 19:00: met
t2      Mar 9 10:30    03:30 PDT     ben      web     billing      target 2 h, due 12:30, answered 15:00: missed;
                                                                   escalated: legal_or_payment_dispute;
                                                                   a nudge set for Mar 12: open, not overdue;
                                                                   a sales lead (qualified) opened 11:00
t3      Mar 10 06:30   Mar 9 23:30   cara     email   complaint    due Mar 10 14:31 (not this day);
                                                                   escalated: complaint_or_emergency
t4      Mar 9 20:00    13:00 PDT     ann      email   appointment  due Mar 10 04:00, never answered: missed;
                                                                   Ann's third appointment ticket: recurring;
                                                                   snoozed at 21:00 until 22:00: an overdue follow-up
after   Mar 10 07:30   Mar 10 00:30  cara     email   complaint    the day after (a naive 24-hour day would count it)
"""

import datetime
from dataclasses import dataclass

import pytest

from lbsup.audit.actors import ASSISTANT, SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_create_contact
from lbsup.crm.models import Lead
from lbsup.crm.recurring import do_flag_recurring
from lbsup.followups.actions import do_set_nudge, do_snooze
from lbsup.followups.models import TicketClock
from lbsup.tickets.actions import (
    do_change_status,
    do_create_ticket,
    do_escalate,
    do_record_outbound,
    do_route,
)
from lbsup.tickets.models import Status, Ticket

UTC = datetime.timezone.utc
DAY = datetime.date(2025, 3, 9)


def utc(month, day, hour, minute=0):
    return datetime.datetime(2025, month, day, hour, minute, tzinfo=UTC)


@dataclass
class CountedDay:
    before: Ticket
    t1: Ticket
    t2: Ticket
    t3: Ticket
    t4: Ticket
    after: Ticket


def _ticket(workspace, contact, at, channel, category, subject):
    ticket = do_create_ticket(SYSTEM, workspace, contact=contact, subject=subject, channel=channel,
                              text=f"{subject}, please.", at=at)
    do_route(ASSISTANT, ticket, category=category, team=None, confidence=0.9)
    return ticket


def _backdate_events(ticket, verb, at):
    # Audit events are stamped with the real clock; the fixture day is in the past.
    AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk), verb=verb).update(created_at=at)


@pytest.fixture
def counted_day(personas):
    dental = personas.dental
    dental.business_hours = {day: ["00:00", "23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    dental.save(update_fields=["business_hours"])
    ann = do_create_contact(SYSTEM, dental, name="Ann Lee", emails=["ann@mailbox.example"])
    ben = do_create_contact(SYSTEM, dental, name="Ben Ode", emails=["ben@mailbox.example"])
    cara = do_create_contact(SYSTEM, dental, name="Cara Diaz", emails=["cara@mailbox.example"])
    before = _ticket(dental, ann, utc(3, 9, 7, 30), "email", "appointment", "Question about my appointment")
    t1 = _ticket(dental, ann, utc(3, 9, 9), "email", "appointment", "Move my appointment")
    t2 = _ticket(dental, ben, utc(3, 9, 10, 30), "web", "billing", "Charge I do not recognise")
    t3 = _ticket(dental, cara, utc(3, 10, 6, 30), "email", "complaint", "Very unhappy with my visit")
    t4 = _ticket(dental, ann, utc(3, 9, 20), "email", "appointment", "Another appointment question")
    after = _ticket(dental, cara, utc(3, 10, 7, 30), "email", "complaint", "Still unhappy")

    do_record_outbound(personas.alice, before, text="Here is your bill.", at=utc(3, 9, 8, 30))
    do_record_outbound(personas.alice, t1, text="Tuesday works.", at=utc(3, 9, 11))
    do_record_outbound(personas.alice, t2, text="We are looking into it.", at=utc(3, 9, 15))
    do_change_status(personas.alice, t1, Status.RESOLVED, at=utc(3, 9, 19))

    do_escalate(ASSISTANT, t2, reasons=[{"rule": "legal_or_payment_dispute", "evidence": ["chargeback"]}])
    _backdate_events(t2, "ticket.escalated", utc(3, 9, 10, 31))
    do_escalate(ASSISTANT, t3, reasons=[{"rule": "complaint_or_emergency", "evidence": ["complaint"]}])
    _backdate_events(t3, "ticket.escalated", utc(3, 10, 6, 31))
    do_escalate(ASSISTANT, after, reasons=[{"rule": "complaint_or_emergency", "evidence": ["complaint"]}])
    _backdate_events(after, "ticket.escalated", utc(3, 10, 7, 31))
    for ticket in (before, t1, t2, t3, t4, after):  # what the CRM hook does after triage
        do_flag_recurring(ticket, at=ticket.created_at)
    do_snooze(personas.alice, t4, utc(3, 9, 22), now=utc(3, 9, 21))
    do_set_nudge(personas.alice, t2, utc(3, 12, 17), now=utc(3, 9, 16))
    Lead.objects.create(workspace=dental, contact=ben, ticket=t2, category="billing", stage=Lead.Stage.QUALIFIED,
                        created_at=utc(3, 9, 11), updated_at=utc(3, 9, 12))
    # Targets normally come from the playbook's category; set last, as every ticket write recomputes them.
    TicketClock.objects.filter(ticket=t1).update(resolution_hours=12)
    TicketClock.objects.filter(ticket=t2).update(first_response_hours=2)
    return CountedDay(before, t1, t2, t3, t4, after)
