import imaplib
import smtplib
import socket
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from lbsup.testing.mailservers import SmtpSink


def _message(subject: str = "Printer on fire") -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Customer <ana@customer.example>"
    message["To"] = "help@acme.example"
    message["Subject"] = subject
    message["Message-ID"] = "<test-1@customer.example>"
    message.set_content("Hello,\nthe printer is on fire again.\n")
    # CRLF line endings: what goes over the wire, so the sink must store it byte for byte.
    return message.as_bytes(policy=SMTP)


def test_it_delivers_the_exact_bytes_sent_with_smtplib(smtp_sink):
    raw = _message()
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.sendmail("ana@customer.example", ["help@acme.example", "cc@acme.example"], raw)

    [received] = smtp_sink.wait_for(1)
    assert received.mail_from == "ana@customer.example"
    assert received.rcpt_tos == ("help@acme.example", "cc@acme.example")
    assert received.raw == raw


def test_it_answers_451_then_accepts_on_retry(smtp_sink):
    smtp_sink.fail_next(1)
    raw = _message()
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as failure:
            client.sendmail("ana@customer.example", ["help@acme.example"], raw)
        assert failure.value.smtp_code == 451
        assert smtp_sink.messages == []
        client.sendmail("ana@customer.example", ["help@acme.example"], raw)

    assert len(smtp_sink.wait_for(1)) == 1


def test_it_refuses_connections_once_stopped():
    sink = SmtpSink().start()
    port = sink.port
    sink.stop()
    with pytest.raises(OSError):
        socket.create_connection((sink.host, port), timeout=2).close()


def test_it_round_trips_a_message_through_dovecot(imap_server):
    raw = _message("Round trip")
    uid = imap_server.append(raw)
    client = imap_server.connect()
    try:
        client.select_folder("INBOX")
        uids = client.search()
        assert uids == [uid]
        fetched = client.fetch(uids, [b"RFC822"])[uid][b"RFC822"]
    finally:
        client.logout()
    assert fetched == raw


def test_it_appends_to_a_new_folder(imap_server):
    imap_server.append(_message(), folder="Archive")
    client = imap_server.connect()
    try:
        assert client.select_folder("Archive")[b"EXISTS"] == 1
    finally:
        client.logout()


def test_it_changes_uidvalidity_on_reset(imap_server):
    imap_server.append(_message())
    before = imap_server.uidvalidity()
    after = imap_server.reset_uidvalidity()
    assert after != before
    assert imap_server.uidvalidity() == after


def test_it_breaks_an_open_imap_connection_on_drop(imap_server):
    imap_server.append(_message())
    client = imap_server.connect()
    client.select_folder("INBOX")
    imap_server.drop_connections()
    with pytest.raises((imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError)):
        client.fetch(client.search(), [b"RFC822"])
    # The server itself keeps serving new connections.
    fresh = imap_server.connect()
    try:
        assert fresh.select_folder("INBOX")[b"EXISTS"] == 1
    finally:
        fresh.logout()
