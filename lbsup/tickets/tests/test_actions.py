import pytest

from lbsup.audit.actors import ASSISTANT, SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.tickets.actions import (
    do_add_customer_message,
    do_add_note,
    do_assign,
    do_change_status,
    do_create_ticket,
    do_record_outbound,
    do_route,
)
from lbsup.tickets.models import Direction, Status


def events_for(ticket):
    return list(AuditEvent.objects.filter(target_type="ticket", target_id=str(ticket.pk)).values_list("verb", flat=True))


def test_it_numbers_tickets_per_workspace(personas):
    contact = do_find_or_create_contact(SYSTEM, personas.dental, "new@mailbox.example", "New Patient")
    second = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="Hi", channel="web", text="hello")
    assert personas.dental_ticket.number == 1
    assert personas.shop_ticket.number == 1
    assert second.number == 2


def test_it_records_audit_events_for_every_write(personas):
    ticket = personas.dental_ticket
    do_assign(personas.alice, ticket, personas.alice)
    do_add_note(personas.alice, ticket, "Called her back, left a voicemail")
    do_change_status(personas.alice, ticket, Status.WAITING, reason="asked for a time")
    verbs = events_for(ticket)
    assert {"ticket.created", "ticket.assigned", "ticket.status_changed"} <= set(verbs)
    note_event = AuditEvent.objects.get(verb="message.note")
    assert note_event.actor_user == personas.alice
    assert note_event.workspace == personas.dental
    status_event = AuditEvent.objects.get(verb="ticket.status_changed")
    assert status_event.data == {"before": "new", "after": "waiting", "reason": "asked for a time"}


def test_it_keeps_audit_events_append_only(personas):
    event = AuditEvent.objects.first()
    event.verb = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_it_refuses_to_let_automation_send(personas):
    with pytest.raises(PermissionError):
        do_record_outbound(ASSISTANT, personas.dental_ticket, text="We will refund you.")
    with pytest.raises(PermissionError):
        do_record_outbound(SYSTEM, personas.dental_ticket, text="We will refund you.")
    assert not personas.dental_ticket.messages.filter(direction=Direction.OUTBOUND).exists()


def test_it_records_first_response_time_once(personas):
    ticket = personas.dental_ticket
    first = do_record_outbound(personas.alice, ticket, text="Tuesday 3:30pm works.")
    do_record_outbound(personas.bob, ticket, text="See you then.")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first.created_at


def test_it_reopens_a_closed_ticket_when_the_customer_writes(personas):
    ticket = personas.dental_ticket
    do_change_status(personas.alice, ticket, Status.CLOSED)
    do_add_customer_message(SYSTEM, ticket, text="Actually, one more question")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert "ticket.reopened_by_customer" in events_for(ticket)


def test_it_refuses_cross_workspace_assignments(personas):
    with pytest.raises(ValueError):
        do_assign(personas.alice, personas.dental_ticket, personas.charlie)
    shop_team = personas.shop.teams.get()
    with pytest.raises(ValueError):
        do_route(personas.alice, personas.dental_ticket, category="billing", team=shop_team)


def test_it_lets_the_assistant_write_internal_notes(personas):
    note = do_add_note(ASSISTANT, personas.dental_ticket, "Looks like a scheduling request.")
    assert note.author_kind == "assistant"
    assert AuditEvent.objects.get(verb="message.note").actor_kind == "assistant"


def test_it_finds_contacts_by_any_case_of_their_email(personas):
    first = do_find_or_create_contact(SYSTEM, personas.dental, "Maria@Mailbox.Example")
    assert first.name == "Maria Gonzalez"
    other_workspace = do_find_or_create_contact(SYSTEM, personas.shop, "maria@mailbox.example")
    assert other_workspace.pk != first.pk
