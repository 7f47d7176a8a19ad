import io
from pathlib import Path

import pytest
from django.core.management import call_command

from lbsup.tickets.history_import import (
    HistoryImportError,
    detect_format,
    import_history,
)
from lbsup.tickets.models import Direction, Status, Ticket

HISTORY = Path(__file__).parent / "history"


def imported(workspace):
    return Ticket.objects.filter(workspace=workspace, messages__thread_reason__startswith="imported").distinct()


def thread(ticket):
    return [(m.direction, m.text) for m in ticket.messages.exclude(direction=Direction.NOTE).order_by("created_at")]


def run(workspace, name):
    with (HISTORY / name).open(encoding="utf-8-sig", newline="") as stream:
        return import_history(workspace, stream)


@pytest.mark.parametrize("name, source", [("zendesk.csv", "zendesk"), ("freshdesk.csv", "freshdesk"),
                                          ("helpscout.csv", "helpscout")])
def test_it_detects_the_export_format_from_the_headers(name, source):
    headers = (HISTORY / name).read_text().splitlines()[0].split(",")
    assert detect_format(headers).source == source


def test_it_refuses_an_unknown_export_with_the_expected_columns():
    with pytest.raises(HistoryImportError, match="Unknown export format.*zendesk"):
        detect_format(["when", "who", "what"])


def test_it_imports_a_zendesk_export_as_tickets_and_messages(personas):
    result = run(personas.dental, "zendesk.csv")
    assert (result.tickets_created, result.messages_created, result.problems) == (2, 4, [])
    crown = Ticket.objects.get(workspace=personas.dental, subject="Crown came off")
    assert thread(crown) == [
        ("inbound", "My crown came off this morning, can you see me today?"),
        ("outbound", "Hi Dana, we can see you at 2pm today."),
        ("inbound", "Perfect, see you then."),
    ]
    assert crown.status == Status.RESOLVED
    assert crown.contact.primary_email == "dana@mailbox.example"
    assert crown.first_response_at.isoformat() == "2025-02-03T18:02:00+00:00"  # 10:02 in Los Angeles
    invoice = Ticket.objects.get(workspace=personas.dental, subject="Invoice question")
    assert (invoice.channel, invoice.status) == ("web", Status.OPEN)


def test_it_authors_imported_replies_as_the_inactive_import_user(personas):
    run(personas.dental, "zendesk.csv")
    reply = Ticket.objects.get(subject="Crown came off").messages.get(direction=Direction.OUTBOUND)
    assert reply.author_user.username == "history-import-bright-smile"
    assert not reply.author_user.is_active
    assert not reply.author_user.has_usable_password()


def test_it_imports_freshdesk_and_skips_internal_notes(personas):
    result = run(personas.shop, "freshdesk.csv")
    assert (result.tickets_created, result.messages_created, result.notes_skipped) == (1, 2, 1)
    ticket = Ticket.objects.get(workspace=personas.shop, subject="Where is my order")
    assert thread(ticket) == [("inbound", "Order NW-123456 has not arrived."), ("outbound", "It arrives tomorrow.")]
    assert ticket.status == Status.RESOLVED
    assert ticket.resolved_at.isoformat() == "2025-02-05T18:00:00+00:00"


def test_it_imports_help_scout_and_reports_rows_it_cannot_read(personas):
    result = run(personas.shop, "helpscout.csv")
    assert (result.tickets_created, result.messages_created) == (1, 2)
    assert [str(p).split(" (")[0] for p in result.problems] == ["line 4: unreadable date"]
    assert Ticket.objects.get(workspace=personas.shop, subject="Return a lamp").status == Status.CLOSED


def test_it_imports_nothing_twice(personas):
    run(personas.dental, "zendesk.csv")
    again = run(personas.dental, "zendesk.csv")
    assert (again.tickets_created, again.messages_created, again.messages_skipped) == (0, 0, 4)
    assert imported(personas.dental).count() == 2


def test_it_resumes_after_a_crash_without_duplicates(personas):
    class Crash(Exception):
        pass

    def crash_after_first(ticket_id):
        raise Crash(ticket_id)

    with pytest.raises(Crash):
        with (HISTORY / "zendesk.csv").open(newline="") as stream:
            import_history(personas.dental, stream, on_ticket=crash_after_first)
    assert imported(personas.dental).count() == 1
    resumed = run(personas.dental, "zendesk.csv")
    assert (resumed.tickets_created, resumed.messages_skipped) == (1, 3)
    assert imported(personas.dental).count() == 2


def test_it_rejects_a_broken_csv_with_the_line(personas):
    broken = io.StringIO('Id,Requester email,Created at,Comment\n1,a@b.example,2025-01-01,"never closed\n')
    with pytest.raises(HistoryImportError, match="line"):
        import_history(personas.dental, broken)


def test_it_runs_from_the_command_line_with_a_summary(personas, capsys):
    call_command("import-history", "--workspace", "bright-smile", str(HISTORY / "zendesk.csv"), "--no-progress")
    assert "zendesk export, 2 tickets (2 new), 4 messages imported" in capsys.readouterr().out
