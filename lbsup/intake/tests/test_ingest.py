import email
import email.policy

import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.intake.actions import compose_inbound, do_ingest, do_process, do_receive
from lbsup.intake.addresses import reply_address
from lbsup.intake.models import RawMessage
from lbsup.tickets.actions import do_record_outbound
from lbsup.tickets.models import Message, Ticket

from .eml_fixtures import all_fixture_names, load_eml


def ingest(workspace, raw, channel="eml"):
    return do_ingest(workspace, raw, channel=channel)


def test_it_turns_every_fixture_into_a_ticket_or_a_reasoned_state(personas):
    for name in all_fixture_names():
        raw_message = ingest(personas.dental, load_eml(name))
        assert raw_message.state in ("processed", "duplicate", "filtered"), (name, raw_message.detail)
        if raw_message.state != "processed":
            assert raw_message.detail, name
    assert RawMessage.objects.filter(state="filtered").count() >= 3  # out-of-office, bounce, list mail


def test_it_stores_the_same_file_once(personas):
    raw = load_eml("gmail_reply.eml")
    first = ingest(personas.dental, raw)
    again = ingest(personas.dental, raw)
    assert first.pk == again.pk
    assert Message.objects.filter(workspace=personas.dental, dedup_key=first.dedup_key).count() == 1


def test_it_keeps_a_second_mail_with_the_same_message_id_and_other_content(personas):
    first = ingest(personas.dental, load_eml("same_id_1.eml"))
    second = ingest(personas.dental, load_eml("same_id_2.eml"))
    assert (first.state, second.state) == ("processed", "processed")
    assert second.message_id != first.message_id
    assert "Second, different body" in second.message.text
    assert second.message.ticket_id == first.message.ticket_id  # same sender: the same conversation
    assert "other content" in second.detail and "other content" in second.message.thread_reason
    # Its own re-delivery (other transport headers, same content) is a duplicate of it.
    again = ingest(personas.dental, b"Received: from relay.example by mx.example\r\n" + load_eml("same_id_2.eml"))
    assert again.state == "duplicate" and again.message_id == second.message_id


def test_it_keeps_one_message_for_a_redelivery_of_the_same_mail(personas):
    first = ingest(personas.dental, load_eml("same_id_1.eml"))
    again = ingest(personas.dental, b"Delivered-To: hello@brightsmile.example\r\n" + load_eml("same_id_1.eml"))
    assert (first.state, again.state) == ("processed", "duplicate")
    assert again.message_id == first.message_id
    assert RawMessage.objects.count() == 2  # both raw copies are kept; one ticket message


def test_it_stores_the_same_message_in_two_workspaces_separately(personas):
    ingest(personas.dental, load_eml("gmail_reply.eml"))
    ingest(personas.shop, load_eml("gmail_reply.eml"))
    assert Ticket.objects.filter(workspace=personas.shop).count() == 2


def test_it_keeps_auto_replies_out_of_the_queue_without_dropping_them(personas):
    tickets_before = Ticket.objects.count()
    raw_message = ingest(personas.dental, load_eml("out_of_office.eml"))
    assert raw_message.state == "filtered"
    assert "out_of_office" in raw_message.detail or "auto" in raw_message.detail
    assert Ticket.objects.count() == tickets_before
    assert bytes(raw_message.raw) == load_eml("out_of_office.eml")


def test_it_separates_the_quoted_reply_but_keeps_it(personas):
    raw_message = ingest(personas.dental, load_eml("outlook_reply.eml"))
    message = raw_message.message
    assert "Original Message" not in message.text and "From:" not in message.text
    assert message.quoted_text


def test_it_sanitizes_hostile_html(personas):
    message = ingest(personas.dental, load_eml("hostile_html.eml")).message
    lowered = message.html.lower()
    assert "<script" not in lowered and "javascript:" not in lowered and "onerror" not in lowered
    assert "<iframe" not in lowered and "<svg" not in lowered


def test_it_stores_attachments(personas):
    message = ingest(personas.dental, load_eml("pdf_attachment.eml")).message
    attachment = message.attachments.get()
    assert attachment.filename.endswith(".pdf") and attachment.size > 0
    assert attachment.file.read()[:4] == b"%PDF"


def test_it_rejects_what_is_not_mail_with_a_reason(personas):
    raw_message = ingest(personas.dental, b"\x00\x01\x02 just junk without headers")
    assert raw_message.state == "rejected" and raw_message.detail


def test_it_keeps_the_raw_bytes_when_processing_fails_and_retries(personas, monkeypatch):
    raw_message = do_receive(personas.dental, load_eml("gmail_reply.eml"), channel="eml")

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("lbsup.intake.actions.find_ticket", boom)
    with pytest.raises(RuntimeError):
        do_process(raw_message)
    raw_message.refresh_from_db()
    assert raw_message.state == "failed" and "disk on fire" in raw_message.detail
    assert not Message.objects.exclude(dedup_key="").filter(workspace=personas.dental,
                                                             dedup_key__contains="gmail").exists()
    monkeypatch.undo()
    assert do_process(raw_message).state == "processed"


def mail(from_email, subject="Hello", to="hello@brightsmile.example", in_reply_to=None, body="Thanks!"):
    headers = [f"From: {from_email}", f"To: {to}", f"Subject: {subject}", "Content-Type: text/plain"]
    if in_reply_to:
        headers += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def test_it_threads_a_reply_by_the_token_in_the_reply_address(personas):
    ticket = personas.dental_ticket
    raw_message = ingest(personas.dental, mail("maria@mailbox.example", "no tag",
                                               to=reply_address(personas.dental, ticket)))
    assert raw_message.message.ticket == ticket
    assert "token" in raw_message.message.thread_reason


def test_it_threads_a_reply_to_our_outbound_message_id(personas):
    ticket = personas.dental_ticket
    do_record_outbound(personas.alice, ticket, text="Tuesday works", message_id="out-1@lbsup.example")
    raw_message = ingest(personas.dental, mail("maria@mailbox.example", "Re: hi", in_reply_to="out-1@lbsup.example"))
    assert raw_message.message.ticket == ticket
    assert "out-1@lbsup.example" in raw_message.message.thread_reason


def test_it_threads_by_the_subject_tag(personas):
    ticket = personas.dental_ticket
    raw_message = ingest(personas.dental, mail("maria@mailbox.example", f"Re: [#{ticket.number}] cleaning"))
    assert raw_message.message.ticket == ticket


def test_it_refuses_to_thread_mail_from_a_stranger(personas):
    ticket = personas.dental_ticket
    raw_message = ingest(personas.dental, mail("mallory@evil.example", f"[#{ticket.number}] gimme",
                                               to=reply_address(personas.dental, ticket)))
    assert raw_message.message.ticket != ticket
    assert "refused" in raw_message.message.thread_reason


def test_it_makes_web_and_api_submissions_idempotent(personas):
    raw = compose_inbound(personas.dental, from_email="new@mailbox.example", from_name="New Person",
                          subject="Question", text="Do you take Blue Shield?", message_key="form-123")
    first = ingest(personas.dental, raw, channel="web")
    # the same submission composed again (another Date header) is still the same message
    again = compose_inbound(personas.dental, from_email="new@mailbox.example", from_name="New Person",
                            subject="Question", text="Do you take Blue Shield?", message_key="form-123")
    second = ingest(personas.dental, again, channel="web")
    assert first.state == "processed"
    assert second.pk == first.pk or second.state == "duplicate"
    assert Message.objects.filter(workspace=personas.dental, dedup_key=first.dedup_key).count() == 1
    assert first.message.ticket.channel == "web"
    assert first.message.ticket.contact.name == "New Person"


def test_it_audits_ingest_as_the_system(personas):
    raw_message = ingest(personas.dental, load_eml("gmail_reply.eml"))
    event = raw_message.message.ticket.workspace.audit_events.filter(verb="ticket.created").first()
    assert event.actor_kind == SYSTEM


@pytest.mark.parametrize("separator", ["\r\n", "\x85", "\u2028", "\u2029", "\x0b"])
def test_it_keeps_form_and_api_text_from_adding_headers(personas, separator):
    raw = compose_inbound(personas.dental, from_email="new@mailbox.example",
                          from_name=f"Eve{separator}Bcc: victim@elsewhere.example",
                          subject=f"Hi{separator}X-Injected: yes", text="hello")
    headers = email.message_from_bytes(raw, policy=email.policy.default)
    assert "X-Injected" not in headers and "Bcc" not in headers
    message = ingest(personas.dental, raw, channel="api").message
    assert message.ticket.subject == "Hi X-Injected: yes"
    assert "Bcc" in message.ticket.contact.name
