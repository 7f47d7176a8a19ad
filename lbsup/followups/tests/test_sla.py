import datetime as dt

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.followups.models import SlaEvent
from lbsup.followups.runner import run_due
from lbsup.followups.sla import sla_state
from lbsup.tickets.actions import (
    do_add_customer_message,
    do_assign,
    do_change_status,
    do_record_outbound,
    do_route,
    do_set_priority,
)
from lbsup.tickets.models import Priority, Status, Ticket
from lbsup.workspaces.models import Team

from .conftest import local


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_it_sets_due_times_in_business_hours_when_a_ticket_opens(open_ticket):
    # No playbook yet: 8 / 16 / 40 business hours. Friday 15:00 + 8h = Monday 15:00 (after DST).
    ticket = fresh(open_ticket())
    assert ticket.first_response_due_at == local(2025, 3, 10, 15)
    assert ticket.resolution_due_at == local(2025, 3, 14, 15)
    assert ticket.next_response_due_at is None
    assert ticket.due_at == ticket.first_response_due_at


def test_it_takes_targets_from_the_playbook_category_and_priority(open_ticket, dental_playbook, personas):
    ticket = open_ticket()
    do_route(personas.alice, ticket, category="appointment", team=None)
    assert fresh(ticket).first_response_due_at == local(2025, 3, 10, 11)  # normal: 4 business hours
    do_set_priority(personas.alice, ticket, Priority.HIGH)
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == local(2025, 3, 7, 16)  # high: 1 business hour
    assert ticket.resolution_due_at == local(2025, 3, 10, 15)  # high: 8 business hours


def test_it_skips_a_playbook_holiday(open_ticket, personas):
    from lbsup.demo import PLAYBOOK_DIR as DEMO
    from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook

    text = (DEMO / "bright-smile.yaml").read_text().replace(
        "escalation_owner: manager", "holidays: [2025-03-10]\nescalation_owner: manager", 1)
    do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
    ticket = fresh(open_ticket())
    assert ticket.first_response_due_at == local(2025, 3, 11, 15)


def test_it_pauses_while_waiting_and_resumes_on_the_customers_reply(open_ticket, personas):
    ticket = open_ticket()
    do_record_outbound(personas.alice, ticket, text="Could you tell us which tooth?", at=local(2025, 3, 7, 16))
    do_change_status(personas.alice, ticket, Status.WAITING, at=local(2025, 3, 10, 10))
    waiting = fresh(ticket)
    assert waiting.sla_paused_since == local(2025, 3, 10, 10)
    assert waiting.due_at is None
    assert sla_state(waiting, local(2025, 3, 20, 10)) == "paused"

    do_add_customer_message(SYSTEM, waiting, text="The upper left one", at=local(2025, 3, 11, 10))
    resumed = fresh(ticket)
    assert resumed.status == Status.OPEN
    assert resumed.sla_paused_since is None
    # 8 business hours spent waiting (Mon 10:00 → Tue 10:00) are added to the resolution clock.
    assert resumed.resolution_due_at == local(2025, 3, 17, 15)
    assert resumed.next_response_due_at == local(2025, 3, 13, 10)  # 16 business hours after the reply
    assert resumed.first_response_due_at is None
    assert resumed.due_at == resumed.next_response_due_at


def test_it_reopens_a_closed_ticket_and_restarts_the_clock_on_a_late_reply(open_ticket, personas):
    ticket = open_ticket()
    do_record_outbound(personas.alice, ticket, text="Fixed at your visit.", at=local(2025, 3, 7, 16))
    do_change_status(personas.alice, ticket, Status.CLOSED, at=local(2025, 3, 7, 16, 5))
    closed = fresh(ticket)
    assert closed.due_at is None and closed.resolution_due_at is None
    assert sla_state(closed, local(2025, 3, 20)) == "none"

    do_add_customer_message(SYSTEM, closed, text="It came loose again.", at=local(2025, 3, 19, 9))
    reopened = fresh(ticket)
    assert reopened.status == Status.OPEN
    assert reopened.next_response_due_at == local(2025, 3, 20, 17)  # Wed 9:00 + 16h = Thu closing
    assert reopened.resolution_due_at == local(2025, 3, 25, 17)
    assert AuditEvent.objects.filter(verb="ticket.sla_updated", target_id=str(ticket.pk), data__restart=True).exists()


def test_it_tells_the_desk_ok_due_soon_and_overdue(open_ticket):
    ticket = fresh(open_ticket())
    due = ticket.due_at
    assert sla_state(ticket, due - dt.timedelta(hours=3)) == "ok"
    assert sla_state(ticket, due - dt.timedelta(minutes=30)) == "due_soon"
    assert sla_state(ticket, due) == "overdue"


def test_it_reminds_the_assignee_then_escalates_to_the_team_lead_once(open_ticket, personas):
    ticket = open_ticket()
    team = Team.objects.get(workspace=personas.dental, slug="front-desk")
    Team.objects.filter(pk=team.pk).update(lead=personas.lena)
    do_route(personas.alice, ticket, category="", team=team)
    do_assign(personas.lena, ticket, personas.alice)
    due = fresh(ticket).first_response_due_at

    before = run_due(due - dt.timedelta(minutes=30))
    again = run_due(due - dt.timedelta(minutes=29))  # a second worker, a minute later
    assert len(before.reminders) == 1 and again.reminders == []
    reminder = SlaEvent.objects.get(kind=SlaEvent.Kind.REMINDER)
    assert reminder.recipient == personas.alice and reminder.clock == "first_response"

    breach = run_due(due + dt.timedelta(minutes=1))
    assert len(breach.breaches) == 1
    assert run_due(due + dt.timedelta(minutes=2)).breaches == []
    event = SlaEvent.objects.get(kind=SlaEvent.Kind.BREACH)
    assert event.recipient == personas.lena
    escalated = fresh(ticket)
    assert escalated.status == Status.ESCALATED
    assert escalated.escalation_reason.startswith("sla_breach")
    verbs = set(AuditEvent.objects.filter(target_id=str(ticket.pk), target_type="ticket").values_list("verb", flat=True))
    assert {"sla.reminder", "sla.breached", "ticket.escalated"} <= verbs


def test_it_does_not_fire_for_a_paused_or_answered_ticket(open_ticket, personas):
    ticket = open_ticket()
    do_record_outbound(personas.alice, ticket, text="On it", at=local(2025, 3, 7, 15, 30))
    do_change_status(personas.alice, ticket, Status.WAITING, at=local(2025, 3, 7, 15, 31))
    report = run_due(local(2025, 4, 30, 12))
    assert report.reminders == [] and report.breaches == []
    assert not SlaEvent.objects.exists()


def test_it_gives_the_same_clocks_for_a_batch_as_one_ticket_at_a_time(open_ticket, personas):
    from lbsup.followups.hooks import ClockBatch
    from lbsup.followups.models import TicketClock
    from lbsup.followups.sla import SLA_COLUMNS, do_recompute_sla, do_recompute_sla_many

    def state(tickets):
        rows = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).order_by("pk").values_list(*SLA_COLUMNS)
        clocks = TicketClock.objects.filter(ticket__in=tickets).order_by("ticket_id").values_list(
            "cycle_started_at", "paused_hours", "first_response_hours", "resolution_hours", "targets_from")
        return list(rows), list(clocks)

    def tickets():
        answered, routed, untouched = (open_ticket(at=local(2025, 3, 7, 15)) for _ in range(3))
        do_record_outbound(personas.alice, answered, text="We will call you at 4.", at=local(2025, 3, 7, 16))
        do_route(personas.alice, routed, category="appointment", team=None)
        TicketClock.objects.filter(ticket=untouched).delete()  # e.g. a ticket from before clocks existed
        Ticket.objects.filter(pk__in=[answered.pk, routed.pk, untouched.pk]).update(due_at=None)
        return [Ticket.objects.get(pk=t.pk) for t in (answered, routed, untouched)]

    at = local(2025, 3, 10, 10)
    one_by_one = tickets()
    for ticket in one_by_one:
        do_recompute_sla(ticket, at=at)
    together = tickets()
    updates = AuditEvent.objects.filter(verb="ticket.sla_updated", target_id__in=[str(t.pk) for t in together])
    before = updates.count()
    do_recompute_sla_many([(ticket, at) for ticket in together], plan=ClockBatch().plan(personas.dental))

    rows, clocks = state(together)
    assert (rows, clocks) == state(one_by_one)
    assert all(row[3] is not None for row in rows)  # every ticket's due_at is set again
    assert updates.count() == before + 3


def test_it_hands_the_new_due_times_to_the_callers_ticket(open_ticket):
    ticket = open_ticket()
    assert ticket.due_at == fresh(ticket).due_at == local(2025, 3, 10, 15)
