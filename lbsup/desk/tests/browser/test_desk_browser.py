import email
import re
from email import policy
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lbsup.audit.models import AuditEvent
from lbsup.demo import PLAYBOOK_DIR
from lbsup.intake.actions import do_ingest
from lbsup.outbound.models import OutboundEmail
from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.models import Ticket

DEMO = PLAYBOOK_DIR
HOSTILE = Path(__file__).resolve().parents[3] / "intake" / "tests" / "fixtures" / "eml" / "hostile_html.eml"
ESCALATING = ("Can I move my cleaning to next Tuesday after 3pm? This is the third time I'm writing. "
              "If nobody calls me today I will talk to my lawyer.")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dental(personas):
    text = (DEMO / "bright-smile.yaml").read_text()
    do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
    return personas.dental


def mail(workspace, subject, body, message_id, sender="pat@mailbox.example"):
    raw = (f"From: Pat Doe <{sender}>\r\nTo: {workspace.support_email}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{message_id}>\r\nDate: Mon, 10 Mar 2025 09:00:00 +0000\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    do_ingest(workspace, raw, channel="email")
    return Ticket.objects.get(workspace=workspace, subject=subject)


def log_in(page, user):
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_it_takes_an_escalated_ticket_from_queue_to_sent_reply_by_keyboard(
        personas, dental, page, smtp, screenshot):
    ticket = mail(dental, "Cleaning, third time asking", ESCALATING, "esc-1@mailbox.example")
    assert ticket.status == "escalated"
    log_in(page, personas.alice)
    page.goto("/w/bright-smile/?view=escalated")
    assert page.locator(".badge.escalated").first.is_visible()
    screenshot("desk-queue")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.classList.contains('ticket-link')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/tickets/{ticket.number}/"))
    assert "lawyer" in page.locator("mark.evidence").all_inner_texts()
    assert page.locator("mark.gap").count() >= 2

    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "draft-text"
    editor = page.locator("#draft-text")
    text = editor.input_value()
    editor.fill(text.replace("[[confirm: slot one]]", "3:30pm").replace(
        "[[confirm: slot two]]", "4:15pm"))
    expect(page.locator("#findings .blocking")).to_have_count(0)  # the live check saw the gaps filled
    assert page.locator("mark.gap").count() == 0
    screenshot("desk-ticket")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_load_state()
    assert "Approved" in page.locator(".flash").inner_text()

    [received] = smtp.wait_for(1)
    sent = email.message_from_bytes(received.raw, policy=policy.default)
    assert sent["In-Reply-To"] == "<esc-1@mailbox.example>"
    assert "<esc-1@mailbox.example>" in sent["References"]
    assert f"[#{ticket.number}]" in sent["Subject"]
    assert "3:30pm or 4:15pm" in sent.get_body(("plain",)).get_content()
    assert AuditEvent.objects.get(verb="draft.approved").actor_user == personas.alice
    page.reload()
    assert "alice — draft.approved" in page.locator(".history").inner_text()


def test_it_refuses_the_desk_to_an_owner(personas, page):
    log_in(page, personas.olivia)
    response = page.goto("/w/bright-smile/")
    assert response.status == 403
    assert page.goto(f"/w/bright-smile/tickets/{personas.dental_ticket.number}/").status == 403


def test_it_runs_no_script_from_hostile_mail(personas, dental, page, screenshot):
    do_ingest(dental, HOSTILE.read_bytes(), channel="email")
    ticket = Ticket.objects.get(workspace=dental, subject="Please look at my account")
    dialogs, errors, outside = [], [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: outside.append(request.url) if "evil.example" in request.url else None)
    log_in(page, personas.alice)
    page.goto(f"/w/bright-smile/tickets/{ticket.number}/")
    for summary in page.locator("details.html-part > summary").all():
        summary.click()
    page.wait_for_timeout(500)
    assert "My account is locked." in page.locator(".thread").inner_text()
    screenshot("desk-hostile")
    assert dialogs == [] and errors == [] and outside == []
    assert page.url.endswith(f"/tickets/{ticket.number}/")


def test_it_blocks_approval_on_a_guardrail_finding_until_edited(personas, dental, page, smtp):
    ticket = mail(dental, "Charged twice", "I was charged twice for my cleaning, please fix it",
                  "billing-1@mailbox.example")
    log_in(page, personas.bob)
    page.goto(f"/w/bright-smile/tickets/{ticket.number}/")
    editor = page.locator("#draft-text")
    original = editor.input_value()
    editor.fill(original + "\n\nWe will refund you $500 and give you a 50% discount.")
    page.locator("#findings .blocking").first.wait_for()
    page.click("#approve")
    page.wait_for_load_state()
    assert "Not sent" in page.locator("[role=alert]").inner_text()
    assert not OutboundEmail.objects.exists()
    page.locator("#draft-text").fill(original.replace("[[confirm: ", "").replace("]]", ""))
    expect(page.locator("#findings .blocking")).to_have_count(0)
    page.click("#approve")
    page.wait_for_load_state()
    assert "Approved" in page.locator(".flash").inner_text()
    assert len(smtp.wait_for(1)) == 1
