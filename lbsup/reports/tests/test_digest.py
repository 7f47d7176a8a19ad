import datetime
import email

from django.core import mail
from django.core.management import call_command

from lbsup.reports.actions import (
    claim_digest,
    do_send_digest,
    do_set_schedule,
    render_digest,
    send_due_digests,
)
from lbsup.reports.figures import build_summary
from lbsup.reports.models import DailySummary

from .conftest import DAY, utc

# 07:05 in Los Angeles on March 10: the digest of March 9 is due.
MORNING_AFTER = utc(3, 10, 14, 5)


def test_it_renders_html_and_text_parts_with_links(personas, counted_day):
    digest = render_digest(personas.dental, build_summary(personas.dental, DAY), base_url="https://desk.example")
    assert digest.subject == "Bright Smile Dental: daily summary for Sunday 9 March 2025"
    assert "4 new tickets arrived" in digest.text and "Email: 3" in digest.text
    assert "https://desk.example/w/bright-smile/reports/2025-03-09/tickets/?figure=channel%3Aemail" in digest.html
    assert "<svg" not in digest.html and "<script" not in digest.html
    assert 'bgcolor="#2f6f9f"' in digest.html  # table bars, which mail clients show


def test_it_sends_the_digest_to_the_owners_once_even_with_two_schedulers(personas, counted_day):
    first = send_due_digests(MORNING_AFTER)
    second = send_due_digests(MORNING_AFTER + datetime.timedelta(minutes=5))
    assert [o.sent for o in first] == [True] and second == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olivia@example.org"]
    assert [mimetype for _, mimetype in message.alternatives] == ["text/html"]
    assert DailySummary.objects.get(workspace=personas.dental, date=DAY).state == "sent"


def test_it_lets_only_one_claim_win(personas):
    assert claim_digest(personas.dental, DAY) is True
    assert claim_digest(personas.dental, DAY) is False
    assert do_send_digest(personas.dental, DAY).reason == "already sent or being sent"
    assert mail.outbox == []


def test_it_waits_for_the_time_the_workspace_chose(personas, counted_day):
    do_set_schedule(personas.olivia, personas.dental, send_at=datetime.time(9, 0), enabled=True)
    assert send_due_digests(MORNING_AFTER) == []
    do_set_schedule(personas.olivia, personas.dental, send_at=datetime.time(9, 0), enabled=False)
    assert send_due_digests(MORNING_AFTER + datetime.timedelta(hours=3)) == []
    assert mail.outbox == []


def test_it_sends_real_mail_and_retries_after_a_refusal(personas, counted_day, settings, smtp_sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    smtp_sink.fail_next(1, code=554, text="5.0.0 no")
    refused = do_send_digest(personas.dental, DAY)
    assert not refused.sent and refused.reason.startswith("sending failed")
    assert do_send_digest(personas.dental, DAY).sent
    (received,) = smtp_sink.wait_for(1)
    parsed = email.message_from_bytes(received.raw)
    assert sorted(part.get_content_type() for part in parsed.walk() if not part.is_multipart()) == [
        "text/html", "text/plain"]
    assert received.rcpt_tos == ("olivia@example.org",)


def test_it_prints_and_sends_from_the_command_line(personas, counted_day, capsys):
    call_command("digest", "--workspace", "bright-smile", "--date", "2025-03-09", "--send")
    captured = capsys.readouterr()
    assert "On Sunday 9 March 2025, 4 new tickets arrived" in captured.out
    assert "sent (olivia@example.org)" in captured.err
    assert len(mail.outbox) == 1
