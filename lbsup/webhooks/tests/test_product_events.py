"""The product's own writes emit the documented events to the workspace's endpoints."""

from lbsup.audit.actors import ASSISTANT, SYSTEM
from lbsup.tickets.actions import (
    do_create_ticket,
    do_escalate,
    do_mark_sent,
    do_record_outbound,
)
from lbsup.webhooks.actions import do_create_endpoint
from lbsup.webhooks.models import Delivery


def events(workspace):
    return list(Delivery.objects.filter(workspace=workspace).order_by("id").values_list("event_type", "payload"))


def test_it_emits_ticket_and_message_events_only_to_the_tickets_workspace(personas):
    do_create_endpoint(personas.lena, personas.dental, url="http://127.0.0.1:9/hook")
    ticket = do_create_ticket(SYSTEM, personas.dental, contact=personas.dental_ticket.contact, subject="Crown",
                              channel="email", text="My crown fell off")
    do_escalate(ASSISTANT, ticket, reasons=[{"rule": "complaint", "evidence": ["fell off"]}])
    reply = do_record_outbound(personas.alice, ticket, text="Come in today at 3pm.", queued=True,
                               message_id="r1@brightsmile.example")
    do_mark_sent(reply)
    emitted = events(personas.dental)
    assert [e for e, _ in emitted] == ["ticket.created", "ticket.escalated", "message.sent"]
    assert all(payload["ticket"] == ticket.number for _, payload in emitted)
    assert emitted[2][1]["approved_by"] == "alice"
    assert emitted[0][1]["contact_email"] == personas.dental_ticket.contact.primary_email != ""
    do_create_ticket(SYSTEM, personas.shop, contact=personas.shop_ticket.contact, subject="x", channel="web",
                     text="hello")
    assert not events(personas.shop)


def test_it_emits_only_the_events_an_endpoint_asked_for(personas):
    do_create_endpoint(personas.lena, personas.dental, url="http://127.0.0.1:9/hook", event_types=["ticket.escalated"])
    do_create_ticket(SYSTEM, personas.dental, contact=personas.dental_ticket.contact, subject="Crown",
                     channel="email", text="My crown fell off")
    assert events(personas.dental) == []
