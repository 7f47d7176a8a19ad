"""A bounce of one of our replies: kept out of the queue, but the reply, the address and the
representative all learn of it."""

from lbsup.audit.models import AuditEvent
from lbsup.crm.models import ContactEmail
from lbsup.intake.actions import do_ingest
from lbsup.outbound.actions import do_approve_and_send
from lbsup.tickets.actions import do_change_status
from lbsup.tickets.models import Direction

from .test_intake_pages import logged_in


def dsn(original_message_id, recipient="maria@mailbox.example", *, action="failed", status="5.2.2",
        diagnostic="smtp; 552 5.2.2 Mailbox full"):
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.mailbox.example>\r\n"
        "To: hello@brightsmile.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.mailbox.example>\r\nAuto-Submitted: auto-replied\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.mailbox.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Bright Smile <hello@brightsmile.example>\r\nTo: {recipient}\r\nMessage-ID: <{original_message_id}>\r\n"
        "Subject: Re: Move my cleaning [#1]\r\n--B--\r\n").encode()


def test_it_tells_the_reply_the_address_and_the_representative_of_a_bounce(personas):
    ticket = personas.dental_ticket
    outbound = do_approve_and_send(personas.alice, ticket, text="Tuesday at 3 works.")
    do_change_status(personas.alice, ticket, "waiting")
    raw_message = do_ingest(personas.dental, dsn(outbound.message.message_id), channel="imap")
    assert raw_message.state == "filtered"  # not a customer writing: kept out of the queue
    assert f"bounce of our reply on #{ticket.number}" in raw_message.detail and "Mailbox full" in raw_message.detail
    outbound.refresh_from_db()
    assert outbound.bounce.startswith("bounced: ") and "5.2.2" in outbound.bounce
    address = ContactEmail.objects.get(workspace=personas.dental, email="maria@mailbox.example")
    assert address.bounced_at and "Mailbox full" in address.bounce_reason
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the customer has no answer: back in the queue
    note = ticket.messages.filter(direction=Direction.NOTE).latest("id")
    assert note.text.startswith("Delivery failed") and "maria@mailbox.example" in note.text
    assert AuditEvent.objects.filter(verb="mail.bounced").count() == 1
    page = logged_in(personas.alice).get(f"/w/bright-smile/tickets/{ticket.number}/").content.decode()
    assert "bounced: " in page and "mail bounces" in page


def test_it_only_notes_a_delay_and_leaves_the_address_alone(personas):
    ticket = personas.dental_ticket
    outbound = do_approve_and_send(personas.alice, ticket, text="Tuesday at 3 works.")
    do_ingest(personas.dental, dsn(outbound.message.message_id, action="delayed", status="4.4.7",
                                   diagnostic="smtp; 421 try again later"), channel="imap")
    outbound.refresh_from_db()
    assert outbound.bounce.startswith("delayed: ")
    assert not ContactEmail.objects.filter(bounced_at__isnull=False).exists()


def test_it_ignores_a_bounce_about_mail_of_another_workspace(personas):
    outbound = do_approve_and_send(personas.charlie, personas.shop_ticket, text="On its way.")
    raw_message = do_ingest(personas.dental, dsn(outbound.message.message_id, "sam@mailbox.example"), channel="imap")
    assert raw_message.state == "filtered" and "bounce of our reply" not in raw_message.detail
    outbound.refresh_from_db()
    assert outbound.bounce == ""
    assert not ContactEmail.objects.filter(bounced_at__isnull=False).exists()


def test_it_reads_real_delivery_reports():
    from pathlib import Path

    from lbsup.intake.mailparse import parse_message

    folder = Path(__file__).resolve().parent / "fixtures" / "real"
    bounce = parse_message((folder / "bounce_report_422.eml").read_bytes()).bounce
    assert bounce.original_message_id == "15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au"
    assert (bounce.recipient, bounce.status, bounce.action) == ("fraser@oooooooo.com.au", "4.2.2", "delayed")
    assert bounce.diagnostic == "452 4.2.2 <fraser@oooooooo.com.au>... Mailbox full"
    assert parse_message(b"From: a@b.example\r\nSubject: hi\r\n\r\nnot a bounce\r\n").bounce is None
