import datetime
import email
from email import policy

import pytest
from django.utils import timezone

from lbsup.audit.actors import ASSISTANT, SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.intake.actions import do_ingest
from lbsup.outbound.actions import claim, do_approve_and_send, do_send, flag_stuck_sends
from lbsup.outbound.models import OutboundEmail
from lbsup.outbound.tasks import send_due_replies
from lbsup.tickets.actions import do_add_customer_message


@pytest.fixture
def ticket(personas):
    ticket = personas.dental_ticket
    do_add_customer_message(SYSTEM, ticket, text="Any news?", message_id="news-1@mailbox.example",
                            references="first@mailbox.example")
    return ticket


def approve(personas, ticket, key="draft-1", text="Hi Maria,\n\nTuesday at 3:30pm works.\n\nBright Smile"):
    return do_approve_and_send(personas.alice, ticket, text=text, approval_key=key)


def test_it_sends_an_approved_reply_with_threading_headers(personas, ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbound = approve(personas, ticket)
    outbound.refresh_from_db()
    assert outbound.state == "sent" and outbound.approved_by == personas.alice
    [received] = smtp.wait_for(1)
    mail = email.message_from_bytes(received.raw, policy=policy.default)
    assert received.rcpt_tos == ("maria@mailbox.example",)
    assert mail["Message-ID"] == f"<{outbound.message.message_id}>"
    assert mail["In-Reply-To"] == "<news-1@mailbox.example>"
    assert mail["References"] == "<first@mailbox.example> <news-1@mailbox.example>"
    assert f"+{ticket.reply_token}@brightsmile.example" in mail["Reply-To"]
    assert f"[#{ticket.number}]" in mail["Subject"]
    assert mail.get_body(("plain",)).get_content().startswith("Hi Maria")
    assert "<p>Hi Maria," in mail.get_body(("html",)).get_content()
    ticket.refresh_from_db()
    assert ticket.first_response_at == outbound.message.sent_at is not None or ticket.first_response_at
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"reply.approved", "message.sent"} <= verbs
    assert AuditEvent.objects.get(verb="reply.approved").actor_user == personas.alice


@pytest.mark.parametrize("who", ["olivia", "charlie"])
def test_it_lets_only_desk_members_approve(personas, ticket, who):
    with pytest.raises(PermissionError):
        do_approve_and_send(getattr(personas, who), ticket, text="hello")
    assert not OutboundEmail.objects.exists()


def test_it_never_lets_the_assistant_send(personas, ticket):
    with pytest.raises(PermissionError):
        do_approve_and_send(ASSISTANT, ticket, text="We refunded you.")


def test_it_sends_once_when_the_same_draft_is_approved_twice(personas, ticket, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = approve(personas, ticket)
        second = do_approve_and_send(personas.bob, ticket, text="a different edit", approval_key="draft-1")
    assert first.pk == second.pk
    assert len(smtp.wait_for(1)) == 1
    assert OutboundEmail.objects.count() == 1


def test_it_lets_exactly_one_worker_claim_a_send(personas, ticket):
    outbound = approve(personas, ticket)
    assert claim(outbound.pk) is True
    assert claim(outbound.pk) is False


def test_it_retries_a_temporary_smtp_error(personas, ticket, smtp):
    outbound = approve(personas, ticket)
    smtp.fail_next(1, code=451)
    outbound = do_send(outbound.pk)
    assert outbound.state == "approved" and "451" in outbound.last_error
    assert outbound.next_attempt_at > timezone.now()
    assert do_send(outbound.pk).state == "approved"  # not due yet: not claimed, not sent
    OutboundEmail.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    assert do_send(outbound.pk).state == "sent"
    assert len(smtp.wait_for(1)) == 1


def test_it_fails_visibly_on_a_permanent_error(personas, ticket, smtp):
    outbound = approve(personas, ticket)
    smtp.fail_next(1, code=550, text="5.1.1 no such user")
    outbound = do_send(outbound.pk)
    assert outbound.state == "failed" and "550" in outbound.last_error
    assert AuditEvent.objects.filter(verb="reply.send_failed").exists()


@pytest.mark.faults
def test_it_queues_while_the_mail_server_is_down_and_sends_once_it_is_back(personas, ticket, smtp):
    outbound = approve(personas, ticket)
    smtp.stop()
    outbound = do_send(outbound.pk)
    assert outbound.state == "approved" and outbound.attempts == 1 and "ConnectionRefusedError" in outbound.last_error
    OutboundEmail.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())  # the backoff has passed
    assert do_send(outbound.pk).attempts == 2  # still down: queued again, with a longer wait
    assert outbound.next_attempt_at < OutboundEmail.objects.get(pk=outbound.pk).next_attempt_at
    smtp.start()
    OutboundEmail.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    send_due_replies()  # the minute sweep finds it due
    outbound.refresh_from_db()
    assert outbound.state == "sent" and outbound.attempts == 3
    assert len(smtp.wait_for(2, timeout=1)) == 1
    send_due_replies()
    assert len(smtp.messages) == 1


def test_it_asks_a_person_instead_of_resending_after_a_crash_mid_send(personas, ticket):
    outbound = approve(personas, ticket)
    assert claim(outbound.pk)  # the worker claimed it, then died before recording the result
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        attempt_started_at=timezone.now() - datetime.timedelta(hours=1))
    flag_stuck_sends()
    outbound.refresh_from_db()
    assert outbound.state == "needs_check"
    assert do_send(outbound.pk).state == "needs_check"  # no automatic second send


def test_it_threads_the_customers_answer_to_our_reply(personas, ticket, smtp):
    outbound = do_send(approve(personas, ticket).pk)
    [received] = smtp.wait_for(1)
    sent = email.message_from_bytes(received.raw, policy=policy.default)
    answer = (f"From: maria@mailbox.example\r\nTo: {sent['Reply-To']}\r\nSubject: {sent['Subject']}\r\n"
              f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {sent['Message-ID']}\r\n"
              f"Message-ID: <answer-1@mailbox.example>\r\n\r\nPerfect, thanks!\r\n").encode()
    raw_message = do_ingest(personas.dental, answer, channel="smtp")
    assert raw_message.message.ticket_id == outbound.ticket_id
