"""do_ingest_batch: the path of `lbsup ingest` and the IMAP poll, with the guarantees of do_ingest."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.followups.actions import do_snooze
from lbsup.followups.models import FollowUp
from lbsup.intake.actions import do_ingest, do_ingest_batch
from lbsup.intake.models import RawMessage
from lbsup.tickets.actions import do_change_status
from lbsup.tickets.models import Attachment, Message, Ticket
from lbsup.workspaces.actions import do_create_workspace
from lbsup.workspaces.models import Workspace

from .eml_fixtures import all_fixture_names, load_eml


def mail(n, subject=None, from_email=None, message_id=None, body="Hello"):
    return (f"From: {from_email or f'customer{n}@mailbox.example'}\r\nTo: hello@brightsmile.example\r\n"
            f"Subject: {subject or f'Question {n}'}\r\nMessage-ID: <{message_id or f'b{n}@mailbox.example'}>\r\n"
            f"Content-Type: text/plain\r\n\r\n{body} {n}\r\n").encode()


def summary(workspace):
    tickets = sorted((t.number, t.subject, t.contact.primary_email, t.status, t.due_at is None)
                     for t in Ticket.objects.filter(workspace=workspace))
    messages = sorted(Message.objects.filter(workspace=workspace).values_list("ticket__number", "text",
                                                                              "thread_reason"))
    raws = sorted(RawMessage.objects.filter(workspace=workspace).values_list("subject", "state", "detail"))
    verbs = sorted(AuditEvent.objects.filter(workspace=workspace).values_list("verb", flat=True))
    return tickets, messages, raws, verbs


def test_it_ends_as_do_ingest_one_by_one_would(db):
    raws = [mail(1), mail(2, subject="Re: [#1] more", from_email="customer1@mailbox.example"),
            mail(3, subject="[#1] again", from_email="stranger@elsewhere.example")]
    raws += [load_eml(name) for name in all_fixture_names()]
    one, batch = (do_create_workspace(SYSTEM, slug=slug, name=slug, support_email=f"hello@{slug}.example")
                  for slug in ("one", "batch"))
    for raw in raws:
        do_ingest(one, raw, channel="eml")
    results = do_ingest_batch(batch, raws, channel="eml")
    assert [item.error for item in results] == [""] * len(raws)
    assert summary(batch) == summary(one)
    assert Message.objects.get(workspace=batch, message_id="b2@mailbox.example").thread_reason == "subject tag [#1]"


def test_it_keeps_each_content_once_for_a_message_id_in_a_batch_and_across_batches(personas):
    first = do_ingest_batch(personas.dental, [mail(1), mail(1, body="Other bytes"), mail(1)], channel="eml")
    assert [item.raw_message.state for item in first] == ["processed", "processed", "processed"]
    assert first[0].raw_message.pk == first[2].raw_message.pk  # the very same bytes: one raw message
    assert "with other content" in first[1].raw_message.detail
    redelivered = b"Received: from relay.example\r\n"
    again = do_ingest_batch(personas.dental, [redelivered + mail(1, body="Other bytes"), mail(2),
                                              redelivered + mail(1)], channel="eml")
    assert [item.raw_message.state for item in again] == ["duplicate", "processed", "duplicate"]
    texts = Message.objects.filter(workspace=personas.dental, message_id="b1@mailbox.example").values_list("text", flat=True)
    assert sorted(texts) == ["Hello 1", "Other bytes 1"]


def test_it_commits_the_raw_bytes_before_processing_them(personas, monkeypatch):
    seen = []
    outside = len(connection.savepoint_ids)  # the test's own transaction

    def spy(workspace, raw_messages):
        # stored, and the transaction that stored them is over (committed, outside a test)
        seen.append(RawMessage.objects.filter(pk__in=[r.pk for r in raw_messages]).count())
        seen.append(len(connection.savepoint_ids) == outside)
        return {}

    monkeypatch.setattr("lbsup.intake.actions._process_batch", spy)
    do_ingest_batch(personas.dental, [mail(1), mail(2)], channel="eml")
    assert seen == [2, True]


def test_it_marks_a_failing_message_failed_and_keeps_the_others(personas, monkeypatch):
    import lbsup.intake.actions as actions

    original = actions.find_ticket

    def fail_on_2(workspace, parsed, **kwargs):
        if parsed.subject == "Question 2":
            raise RuntimeError("disk on fire")
        return original(workspace, parsed, **kwargs)

    monkeypatch.setattr(actions, "find_ticket", fail_on_2)
    results = do_ingest_batch(personas.dental, [mail(1), mail(2), mail(3)], channel="eml")
    assert [item.raw_message.state for item in results] == ["processed", "failed", "processed"]
    assert "disk on fire" in results[1].error and "disk on fire" in results[1].raw_message.detail
    assert not Message.objects.filter(message_id="b2@mailbox.example").exists()
    assert not Ticket.objects.filter(workspace=personas.dental, subject="Question 2").exists()
    assert {t.contact.primary_email for t in Ticket.objects.filter(workspace=personas.dental, subject__startswith="Question")
            .select_related("contact")} == {"customer1@mailbox.example", "customer3@mailbox.example"}
    monkeypatch.undo()
    retried = do_ingest_batch(personas.dental, [mail(2)], channel="eml")
    assert retried[0].raw_message.state == "processed"


def fail_storing_attachments_of(monkeypatch, text):
    """Make the message with this text fail after its ticket was opened or reopened."""
    import lbsup.intake.actions as actions

    original = actions._store_attachments

    def failing(message, attachments, **kwargs):
        if message.text == text:
            raise RuntimeError("disk on fire")
        return original(message, attachments, **kwargs)

    monkeypatch.setattr(actions, "_store_attachments", failing)


def test_it_reopens_a_ticket_for_the_next_message_when_a_rolled_back_one_had_reopened_it(personas, monkeypatch,
                                                                                       caplog):
    do_ingest(personas.dental, mail(1), channel="eml")
    ticket = Message.objects.get(message_id="b1@mailbox.example").ticket
    do_change_status(personas.alice, ticket, "resolved")
    fail_storing_attachments_of(monkeypatch, "Hello 2")
    results = do_ingest_batch(personas.dental, [
        mail(n, subject=f"Re: [#{ticket.number}] Question 1", from_email="customer1@mailbox.example")
        for n in (2, 3)], channel="eml")
    assert [item.raw_message.state for item in results] == ["failed", "processed"]
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert list(ticket.messages.values_list("text", flat=True).order_by("pk")) == ["Hello 1", "Hello 3"]
    assert AuditEvent.objects.filter(verb="ticket.reopened_by_customer", target_id=ticket.pk).count() == 1
    assert "one by one" not in caplog.text


def test_it_forgets_a_ticket_that_a_rolled_back_message_had_opened(personas, monkeypatch, caplog):
    number = Workspace.objects.get(pk=personas.dental.pk).next_ticket_number
    fail_storing_attachments_of(monkeypatch, "Hello 1")
    results = do_ingest_batch(personas.dental, [
        mail(1), mail(2, subject=f"Re: [#{number}] Question 1", from_email="customer1@mailbox.example")],
        channel="eml")
    assert [item.raw_message.state for item in results] == ["failed", "processed"]
    message = Message.objects.get(message_id="b2@mailbox.example")
    assert message.ticket.number == number  # the rolled-back ticket's number was not used up
    assert message.thread_reason == f"new ticket (refused: subject tag [#{number}]: no such ticket)"
    assert "one by one" not in caplog.text  # the batch went on; its fallback did not mend it


def test_it_ends_a_snooze_when_the_customer_writes_and_not_when_the_message_is_rolled_back(personas, monkeypatch):
    do_ingest_batch(personas.dental, [mail(1), mail(2)], channel="eml")
    snoozed, other = (Message.objects.get(message_id=f"b{n}@mailbox.example").ticket for n in (1, 2))
    for ticket in (snoozed, other):
        do_snooze(personas.alice, ticket, timezone.now() + timedelta(days=2))
    fail_storing_attachments_of(monkeypatch, "Hello 4")
    results = do_ingest_batch(personas.dental, [
        mail(3, subject=f"Re: [#{snoozed.number}] Question 1", from_email="customer1@mailbox.example"),
        mail(4, subject=f"Re: [#{other.number}] Question 2", from_email="customer2@mailbox.example")], channel="eml")
    assert [item.raw_message.state for item in results] == ["processed", "failed"]
    assert FollowUp.objects.get(ticket=snoozed).state == FollowUp.State.CANCELLED
    assert FollowUp.objects.get(ticket=snoozed).outcome == "the customer wrote"
    assert FollowUp.objects.get(ticket=other).state == FollowUp.State.PENDING  # its message was rolled back
    assert Ticket.objects.get(pk=snoozed.pk).snoozed_until is None
    assert Ticket.objects.get(pk=other.pk).snoozed_until is not None
    assert AuditEvent.objects.filter(verb="followup.answered_by_customer", target_id=snoozed.pk).count() == 1


def test_it_leaves_no_attachment_file_of_a_rolled_back_attempt_behind(personas, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fail_storing_attachments_of(monkeypatch, "Hello 2")
    results = do_ingest_batch(personas.dental, [load_eml("pdf_attachment.eml"), mail(2), load_eml("inline_image.eml")],
                              channel="eml")
    assert [item.raw_message.state for item in results] == ["processed", "failed", "processed"]
    on_disk = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()}
    stored = set(Attachment.objects.filter(workspace=personas.dental).exclude(file="").values_list("file", flat=True))
    assert len(stored) >= 2
    assert on_disk == stored  # the first attempt, rolled back, wrote them too


def test_it_processes_one_by_one_when_the_batch_as_a_whole_fails(personas, monkeypatch):
    calls = []

    def broken_flush(self):
        calls.append(1)
        raise RuntimeError("clock store down")

    monkeypatch.setattr("lbsup.followups.hooks.ClockBatch.flush", broken_flush)
    results = do_ingest_batch(personas.dental, [mail(1), mail(2)], channel="eml")
    assert calls == [1, 1]  # in one go, then with a savepoint per message, then one by one
    assert [item.raw_message.state for item in results] == ["processed", "processed"]
    assert Ticket.objects.get(workspace=personas.dental, subject="Question 1").due_at is not None


def test_it_reports_a_message_too_large_without_storing_it(personas, monkeypatch):
    monkeypatch.setattr("lbsup.intake.actions.MAX_RAW_BYTES", 200)
    big = mail(2, body="x" * 300)
    results = do_ingest_batch(personas.dental, [mail(1), big], channel="eml")
    assert results[0].raw_message.state == "processed"
    assert results[1].raw_message is None and "limit" in results[1].error
    assert RawMessage.objects.filter(workspace=personas.dental).count() == 1


def test_it_enqueues_the_triage_of_a_batch_in_one_write_after_the_commit(personas, monkeypatch,
                                                                           django_capture_on_commit_callbacks):
    from lbsup.core import queue

    writes = []
    monkeypatch.setattr(queue, "enqueue_many", lambda calls: writes.append([args for _, args in calls]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        do_ingest_batch(personas.dental, [mail(1), load_eml("out_of_office.eml"), mail(2)], channel="eml")
        assert writes == []  # nothing on the queue before the commit
    assert len(callbacks) == 1
    ids = [Message.objects.get(message_id=f"b{n}@mailbox.example").pk for n in (1, 2)]
    assert writes == [[(ids[0],), (ids[1],)]]


def test_it_emits_ticket_created_for_each_new_ticket_of_a_batch(personas, settings):
    settings.LBSUP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    from lbsup.webhooks.actions import do_create_endpoint
    from lbsup.webhooks.models import Delivery

    do_create_endpoint(personas.lena, personas.dental, url="http://127.0.0.1:9/hook", event_types=["ticket.created"])
    raws = [mail(1), mail(2, subject="Re: [#1] more", from_email="customer1@mailbox.example"), mail(3)]
    number = type(personas.dental).objects.get(pk=personas.dental.pk).next_ticket_number
    raws[1] = raws[1].replace(b"[#1]", f"[#{number}]".encode())
    do_ingest_batch(personas.dental, raws, channel="eml")
    payloads = [d.payload for d in Delivery.objects.filter(workspace=personas.dental).order_by("id")]
    assert [(p["ticket"], p["contact_email"]) for p in payloads] == [
        (number, "customer1@mailbox.example"), (number + 1, "customer3@mailbox.example")]


def test_it_imports_files_with_the_cli_in_batches(personas, tmp_path, monkeypatch, capsys):
    from django.core.management import CommandError, call_command

    monkeypatch.setattr("lbsup.intake.management.commands.ingest.INGEST_BATCH", 2)
    paths = []
    for n, raw in enumerate([mail(1), mail(2), b"Received: from relay.example\r\n" + mail(1),
                             load_eml("out_of_office.eml")]):
        paths.append(tmp_path / f"{n}.eml")
        paths[-1].write_bytes(raw)
    with pytest.raises(CommandError, match="1 of 5"):
        call_command("ingest", "--workspace", personas.dental.slug, *map(str, paths), str(tmp_path / "missing.eml"))
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == ["processed", "processed", "duplicate", "filtered"]
    assert "missing.eml" in err
    assert RawMessage.objects.filter(workspace=personas.dental).count() == 4
