import smtplib

import pytest

from lbsup.intake.imap import poll_mailbox
from lbsup.intake.models import Mailbox, RawMessage
from lbsup.intake.reconcile import reconcile_mailbox
from lbsup.intake.smtp_server import make_controller
from lbsup.testing.mailservers import find_free_port
from lbsup.tickets.models import Message

from .eml_fixtures import load_eml


def numbered_mail(n, to="hello@brightsmile.example"):
    return (f"From: Customer {n} <customer{n}@mailbox.example>\r\nTo: {to}\r\nSubject: Question {n}\r\n"
            f"Message-ID: <q{n}@mailbox.example>\r\nDate: Mon, 3 Mar 2025 10:{n % 60:02d}:00 +0000\r\n\r\n"
            f"Hello, question number {n}.\r\n").encode()


@pytest.fixture
def mailbox(personas, imap_server):
    return Mailbox.objects.create(
        workspace=personas.dental, host=imap_server.host, port=imap_server.port, use_ssl=False,
        username=imap_server.username, password=imap_server.password,
    )


def stored_questions():
    return sorted(Message.objects.filter(message_id__startswith="q").values_list("message_id", flat=True))


def test_it_polls_new_mail_and_marks_it_seen_only_after_storing(mailbox, imap_server):
    for n in range(3):
        imap_server.append(numbered_mail(n))
    report = poll_mailbox(mailbox)
    assert (report.fetched, report.stored, report.failed) == (3, 3, [])
    assert stored_questions() == ["q0@mailbox.example", "q1@mailbox.example", "q2@mailbox.example"]
    with imap_server.connect() as client:
        client.select_folder("INBOX")
        assert len(client.search(["SEEN"])) == 3
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3 and mailbox.last_error == ""
    imap_server.append(numbered_mail(3))
    assert poll_mailbox(mailbox).fetched == 1  # incremental: only the new one


def test_it_rescans_without_duplicates_when_uidvalidity_changes(mailbox, imap_server):
    for n in range(2):
        imap_server.append(numbered_mail(n))
    poll_mailbox(mailbox)
    imap_server.reset_uidvalidity()
    imap_server.append(numbered_mail(2))
    report = poll_mailbox(mailbox)
    assert report.uidvalidity_changed
    assert len(stored_questions()) == 3
    assert Message.objects.filter(message_id="q0@mailbox.example").count() == 1


def test_it_resumes_after_a_connection_dropped_mid_fetch(mailbox, imap_server, monkeypatch):
    for n in range(5):
        imap_server.append(numbered_mail(n))
    import lbsup.intake.imap as imap

    original = imap._take

    def take_then_drop(client, *args):
        original(client, *args)
        imap_server.drop_connections()  # after the first FETCH's batch is stored and flagged

    monkeypatch.setattr(imap, "FETCH_BATCH", 2)
    monkeypatch.setattr(imap, "_take", take_then_drop)
    poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.last_error  # the dropped connection is visible on the mailbox
    assert 2 <= len(stored_questions()) < 5
    monkeypatch.undo()
    poll_mailbox(mailbox)
    assert len(stored_questions()) == 5
    assert RawMessage.objects.count() == 5


def test_it_marks_seen_what_a_batch_stored_and_leaves_a_failed_message_visible(mailbox, imap_server, monkeypatch):
    for n in range(4):
        imap_server.append(numbered_mail(n))
    import lbsup.intake.actions as actions

    original = actions.find_ticket

    def fail_on_question_2(workspace, mail, **kwargs):
        if mail.subject == "Question 2":
            raise RuntimeError("disk on fire")
        return original(workspace, mail, **kwargs)

    monkeypatch.setattr(actions, "find_ticket", fail_on_question_2)
    report = poll_mailbox(mailbox)
    assert (report.fetched, report.stored) == (4, 4)
    assert [uid for uid, _ in report.failed] == [3] and "disk on fire" in report.failed[0][1]
    assert stored_questions() == ["q0@mailbox.example", "q1@mailbox.example", "q3@mailbox.example"]
    assert RawMessage.objects.get(subject="Question 2").state == "failed"
    with imap_server.connect() as client:
        client.select_folder("INBOX")
        assert len(client.search(["SEEN"])) == 4  # the failed one is stored; the resume job retries it


def test_it_reconciles_the_mailbox_with_what_was_stored(mailbox, imap_server):
    import datetime

    from django.utils import timezone

    imap_server.append(numbered_mail(0))
    poll_mailbox(mailbox)
    imap_server.append(numbered_mail(1))  # arrived after the last poll
    report = reconcile_mailbox(mailbox, timezone.now() - datetime.timedelta(days=1))
    assert report.on_server == 2 and report.stored == 1
    assert [subject for _, subject in report.missing] == ["Question 1"]
    assert not report.ok
    poll_mailbox(mailbox)
    assert reconcile_mailbox(mailbox, timezone.now() - datetime.timedelta(days=1)).ok


@pytest.fixture
def inbound_smtp(transactional_db):
    port = find_free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def test_it_accepts_smtp_mail_for_a_support_address(personas, inbound_smtp):
    with smtplib.SMTP("127.0.0.1", inbound_smtp) as smtp:
        smtp.sendmail("customer0@mailbox.example", ["Hello@BrightSmile.example"], numbered_mail(0))
    raw_message = RawMessage.objects.get()
    assert raw_message.channel == "smtp" and raw_message.state == "processed"
    assert raw_message.source["mail_from"] == "customer0@mailbox.example"
    assert stored_questions() == ["q0@mailbox.example"]


def test_it_refuses_unknown_recipients_at_rcpt(personas, inbound_smtp):
    with smtplib.SMTP("127.0.0.1", inbound_smtp) as smtp:
        smtp.ehlo()
        smtp.mail("customer0@mailbox.example")
        code, _ = smtp.rcpt("nobody@brightsmile.example")
        assert code == 550
    assert not RawMessage.objects.exists()


def test_it_stores_mail_once_when_it_comes_by_smtp_and_imap(personas, inbound_smtp, imap_server):
    mailbox = Mailbox.objects.create(workspace=personas.dental, host=imap_server.host, port=imap_server.port,
                                     use_ssl=False, username=imap_server.username, password=imap_server.password)
    raw = load_eml("gmail_reply.eml")
    with smtplib.SMTP("127.0.0.1", inbound_smtp) as smtp:
        smtp.sendmail("lena.fischer@gmail.example", ["hello@brightsmile.example"], raw)
    imap_server.append(raw)
    poll_mailbox(mailbox)
    assert Message.objects.filter(message_id__iexact="caf=k2ld9x+qw8vz_3n@mail.gmail.example").count() == 1
    assert RawMessage.objects.count() == 1  # the very same bytes: stored once
