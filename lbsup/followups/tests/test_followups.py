import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.drafts.actions import do_approve_draft
from lbsup.drafts.models import Draft
from lbsup.followups.actions import do_cancel_followup, do_set_nudge, do_snooze
from lbsup.followups.desk import is_snoozed, ticket_card
from lbsup.followups.models import FollowUp
from lbsup.followups.runner import run_due
from lbsup.outbound.models import OutboundEmail
from lbsup.tickets.actions import (
    do_add_customer_message,
    do_change_status,
    do_record_outbound,
)
from lbsup.tickets.models import Status, Ticket

from .conftest import local


def waiting_ticket(open_ticket, personas):
    ticket = open_ticket()
    do_record_outbound(personas.alice, ticket, text="Which tooth is it?", at=local(2025, 3, 7, 15, 30))
    do_change_status(personas.alice, ticket, Status.WAITING, at=local(2025, 3, 7, 15, 31))
    return Ticket.objects.get(pk=ticket.pk)


def test_it_resurfaces_a_snoozed_waiting_ticket_when_due(open_ticket, personas):
    ticket = waiting_ticket(open_ticket, personas)
    do_snooze(personas.alice, ticket, local(2025, 3, 10, 12), note="call after the weekend", now=local(2025, 3, 7, 16))
    assert is_snoozed(Ticket.objects.get(pk=ticket.pk), local(2025, 3, 10, 11))

    assert run_due(local(2025, 3, 10, 11, 59)).followups == []
    assert len(run_due(local(2025, 3, 10, 12)).followups) == 1
    assert run_due(local(2025, 3, 10, 12, 1)).followups == []  # claimed once
    ticket.refresh_from_db()
    assert ticket.snoozed_until is None
    assert ticket.status == Status.OPEN
    assert AuditEvent.objects.filter(verb="ticket.resurfaced", target_id=str(ticket.pk)).count() == 1


def test_it_drafts_a_nudge_from_the_playbook_when_the_customer_stays_silent(open_ticket, personas, dental_playbook):
    ticket = waiting_ticket(open_ticket, personas)
    do_set_nudge(personas.alice, ticket, local(2025, 3, 12, 9), now=local(2025, 3, 7, 16))
    run_due(local(2025, 3, 12, 9, 1))
    followup = FollowUp.objects.get(ticket=ticket)
    assert followup.state == FollowUp.State.DONE and followup.draft is not None
    draft = followup.draft
    assert draft.reply_id == "nudge" and draft.state == Draft.State.PROPOSED
    assert "Maria Gonzalez" in draft.text and "Bright Smile Dental" in draft.text
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN

    do_approve_draft(personas.alice, draft, draft.text)
    assert OutboundEmail.objects.filter(ticket=ticket).count() == 1


def test_it_drops_the_nudge_and_the_snooze_when_the_customer_writes(open_ticket, personas):
    ticket = waiting_ticket(open_ticket, personas)
    do_set_nudge(personas.alice, ticket, local(2025, 3, 12, 9), now=local(2025, 3, 7, 16))
    do_snooze(personas.alice, ticket, local(2025, 3, 12, 9), now=local(2025, 3, 7, 16))
    do_add_customer_message(SYSTEM, ticket, text="Upper left, thanks", at=local(2025, 3, 10, 9))
    assert set(FollowUp.objects.filter(ticket=ticket).values_list("state", flat=True)) == {FollowUp.State.CANCELLED}
    assert Ticket.objects.get(pk=ticket.pk).snoozed_until is None
    assert run_due(local(2025, 3, 12, 10)).followups == []
    assert not Draft.objects.filter(ticket=ticket, reply_id="nudge").exists()


def test_it_refuses_a_follow_up_in_the_past_or_by_the_assistant(open_ticket, personas):
    ticket = open_ticket()
    with pytest.raises(ValueError, match="future"):
        do_snooze(personas.alice, ticket, local(2025, 3, 7, 14), now=local(2025, 3, 7, 16))
    with pytest.raises(PermissionError):
        do_set_nudge(SYSTEM, ticket, local(2025, 3, 9), now=local(2025, 3, 7, 16))


def test_it_shows_open_follow_ups_and_the_clock_on_the_ticket_card(open_ticket, personas):
    ticket = open_ticket()
    followup = do_set_nudge(personas.alice, ticket, local(2025, 3, 12, 9), now=local(2025, 3, 7, 16))
    card = ticket_card(Ticket.objects.get(pk=ticket.pk), local(2025, 3, 10, 14, 30))
    assert card.sla == "due_soon" and card.clock == "first_response"
    assert card.followups == [followup]
    do_cancel_followup(personas.bob, followup, reason="customer called")
    assert ticket_card(Ticket.objects.get(pk=ticket.pk), local(2025, 3, 10, 14, 30)).followups == []
