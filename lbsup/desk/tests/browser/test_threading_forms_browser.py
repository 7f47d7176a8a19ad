"""The three threading forms of issue #18 in a real chromium: merge on the ticket page, the Cc
checkboxes on the reply, and assigning unreadable or filtered mail by hand from the inbound log."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import expect

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.demo import PLAYBOOK_DIR
from lbsup.intake.actions import do_ingest
from lbsup.intake.models import RawMessage
from lbsup.outbound.models import OutboundEmail
from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.actions import do_create_ticket
from lbsup.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

UNREADABLE = b"\x00\x01garbage without any header\r\n\r\nMy tap is leaking, please call 555-0100\r\n"
OUT_OF_OFFICE = (b"From: Pat Doe <pat@mailbox.example>\r\nTo: hello@brightsmile.example\r\n"
                 b"Subject: Out of office: your appointment\r\nMessage-ID: <ooo-1@mailbox.example>\r\n"
                 b"Auto-Submitted: auto-replied\r\nDate: Mon, 10 Mar 2025 09:00:00 +0000\r\n"
                 b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                 b"I am away until Monday. PS: my new number is 555-0199, please update it.\r\n")


@pytest.fixture
def dental(personas):
    text = (PLAYBOOK_DIR / "bright-smile.yaml").read_text()
    do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
    return personas.dental


def mail(workspace, subject, body, message_id, sender="pat@mailbox.example", cc=(), extra=""):
    headers = f"Cc: {', '.join(cc)}\r\n" if cc else ""
    raw = (f"From: Pat Doe <{sender}>\r\nTo: {workspace.support_email}\r\n{headers}Subject: {subject}\r\n"
           f"Message-ID: <{message_id}>\r\nDate: Mon, 10 Mar 2025 09:00:00 +0000\r\n{extra}"
           f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    do_ingest(workspace, raw, channel="email")
    return Ticket.objects.get(workspace=workspace, subject=subject)


def log_in(page, user):
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def ticket_url(ticket):
    return f"/w/{ticket.workspace.slug}/tickets/{ticket.number}/"


def merge_from_the_page(page, into, reason=""):
    page.locator("details.merge > summary").click()
    page.fill("#merge-into", into)
    page.fill("#merge-reason", reason)
    page.get_by_role("button", name="Merge this ticket into it").click()
    page.wait_for_load_state()


# --- merge ------------------------------------------------------------------------------------------

def test_a_rep_merges_one_ticket_into_another_and_both_pages_say_so(personas, dental, page, screenshot):
    first = mail(dental, "Broken crown", "My crown broke while eating, can you see me this week?",
                 "crown-1@mailbox.example")
    second = mail(dental, "Forgot the photo", "Here is what it looks like: a sharp edge on the left.",
                  "crown-2@mailbox.example")
    assert first.pk != second.pk
    log_in(page, personas.alice)
    page.goto(ticket_url(second))
    merge_from_the_page(page, f"#{first.number}", reason="same broken crown")
    page.wait_for_url(re.compile(rf"/tickets/{first.number}/$"))
    assert f"Merged into #{first.number}" in page.locator(".flash").inner_text()
    thread = page.locator(".thread").inner_text()
    assert "My crown broke" in thread and "a sharp edge on the left" in thread
    assert f"Merged in: #{second.number}" in page.locator("body").inner_text()
    screenshot("desk-merged-target")

    page.goto(ticket_url(second))
    notice = page.locator("p.notice[role=status]")
    expect(notice).to_contain_text(f"Merged into #{first.number}")
    expect(page.locator("details.merge")).to_have_count(0)  # a merged ticket offers no second merge
    notice.get_by_role("link", name=f"#{first.number}").click()
    page.wait_for_url(re.compile(rf"/tickets/{first.number}/$"))

    second.refresh_from_db()
    assert second.merged_into_id == first.pk and second.status == "closed"
    assert first.messages.filter(direction="inbound").count() == 2 and not second.messages.exists()
    event = AuditEvent.objects.get(verb="ticket.merged")
    assert event.actor_user == personas.alice and event.data["into"] == first.number
    assert event.data["reason"] == "same broken crown"


def test_merging_into_itself_or_another_workspaces_ticket_is_refused_on_the_page(personas, dental, page):
    ticket = mail(dental, "Whitening price", "How much is whitening?", "white-1@mailbox.example")
    sam = do_find_or_create_contact(SYSTEM, personas.shop, "sam@mailbox.example", "Sam Carter")
    foreign = personas.shop_ticket
    while foreign.number <= Ticket.objects.filter(workspace=dental).order_by("-number").first().number:
        foreign = do_create_ticket(SYSTEM, personas.shop, contact=sam, subject=f"Order {foreign.number + 1}",
                                   channel="email", text="Where is my order?")
    log_in(page, personas.alice)
    page.goto(ticket_url(ticket))

    merge_from_the_page(page, str(ticket.number))
    expect(page.locator(".flash li.error")).to_contain_text("cannot be merged into itself")
    assert page.url.endswith(ticket_url(ticket))

    merge_from_the_page(page, f"#{foreign.number}")
    expect(page.locator(".flash li.error")).to_contain_text(f"There is no ticket #{foreign.number} here")
    assert page.url.endswith(ticket_url(ticket))
    assert "sam@mailbox.example" not in page.content()

    ticket.refresh_from_db()
    foreign.refresh_from_db()
    assert ticket.merged_into_id is None and ticket.status != "closed"
    assert foreign.merged_into_id is None and foreign.messages.count() == 1
    assert not AuditEvent.objects.filter(verb__in=["ticket.merged", "ticket.merged_in"]).exists()


# --- Cc on the reply ---------------------------------------------------------------------------------

def test_the_reply_copies_only_the_participants_left_ticked(personas, dental, page, smtp, screenshot):
    ticket = mail(dental, "Saturday hours", "what time do you open on saturday?", "hours-1@mailbox.example",
                  cc=["Carol <carol@partner.example>", "dave@partner.example"])
    assert ticket.participants == ["pat@mailbox.example", "carol@partner.example", "dave@partner.example"]
    log_in(page, personas.bob)
    page.goto(ticket_url(ticket))
    participants = page.locator("ul.participants").inner_text()
    assert all(a in participants for a in ("pat@mailbox.example", "carol@partner.example", "dave@partner.example"))
    boxes = page.locator("fieldset.cc input[type=checkbox][name=cc]")
    expect(boxes).to_have_count(2)  # the customer is the addressee, not a Cc
    carol = page.get_by_label("carol@partner.example")
    dave = page.get_by_label("dave@partner.example")
    expect(carol).to_be_checked()
    expect(dave).to_be_checked()
    dave.uncheck()
    expect(dave).not_to_be_checked()

    editor = page.locator("#draft-text")
    editor.fill(editor.input_value().replace("[[confirm: ", "").replace("]]", ""))
    expect(page.locator("#findings .blocking")).to_have_count(0)
    screenshot("desk-reply-cc")
    page.click("#approve")
    page.wait_for_load_state()
    assert "Approved" in page.locator(".flash").inner_text()

    assert OutboundEmail.objects.get(ticket=ticket).cc_emails == ["carol@partner.example"]
    [received] = smtp.wait_for(1)
    sent = email.message_from_bytes(received.raw, policy=policy.default)
    assert sent["To"].addresses[0].addr_spec == "pat@mailbox.example"
    assert [a.addr_spec for a in sent["Cc"].addresses] == ["carol@partner.example"]
    assert set(received.rcpt_tos) == {"pat@mailbox.example", "carol@partner.example"}
    assert sent["In-Reply-To"] == "<hours-1@mailbox.example>"


# --- inbound log: download and assign by hand -----------------------------------------------------

def download_original(page, raw_message):
    row = page.locator("tr", has=page.locator(f"a[href$='/intake/{raw_message.pk}/source/']"))
    with page.expect_download() as info:
        row.get_by_role("link", name="Original").click()
    download = info.value
    assert download.suggested_filename == f"mail-{raw_message.pk}.eml"
    with open(download.path(), "rb") as saved:
        return row, saved.read()


def test_unreadable_mail_is_downloaded_and_assigned_to_a_ticket_by_hand(personas, dental, page, screenshot):
    raw_message = do_ingest(dental, UNREADABLE, channel="imap")
    assert raw_message.state == "rejected"
    ticket = personas.dental_ticket
    log_in(page, personas.alice)
    page.goto("/w/bright-smile/intake/?state=rejected")
    row, downloaded = download_original(page, raw_message)
    assert downloaded == UNREADABLE
    expect(row).to_contain_text(raw_message.detail[:60])
    row.locator("details.assign > summary").click()
    row.get_by_label("To ticket #").fill(f"#{ticket.number}")
    screenshot("intake-assign-by-hand")
    row.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text(f"is now on ticket #{ticket.number}")

    raw_message.refresh_from_db()
    assert raw_message.state == "processed" and raw_message.message.ticket_id == ticket.pk
    page.goto("/w/bright-smile/intake/")
    done = page.locator("tr", has=page.locator(f"a[href$='/intake/{raw_message.pk}/source/']"))
    expect(done.locator("details.assign")).to_have_count(0)
    done.get_by_role("link", name=f"#{ticket.number}").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.number}/$"))
    message = page.locator(f"#m{raw_message.message.pk}")
    expect(message).to_contain_text("please call 555-0100")
    expect(message).to_contain_text("assigned by hand by alice")
    expect(message.get_by_role("link", name="original-mail.eml")).to_be_visible()
    assert AuditEvent.objects.get(verb="mail.assigned").actor_user == personas.alice


def test_filtered_mail_becomes_a_new_ticket_from_the_address_given(personas, dental, page):
    raw_message = do_ingest(dental, OUT_OF_OFFICE, channel="imap")
    assert raw_message.state == "filtered"
    log_in(page, personas.bob)
    page.goto("/w/bright-smile/intake/?state=filtered")
    row, downloaded = download_original(page, raw_message)
    assert downloaded == OUT_OF_OFFICE

    row.locator("details.assign > summary").click()
    row.get_by_label("To ticket #").fill("999")
    row.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    expect(page.locator(".flash li.error")).to_contain_text("There is no ticket #999 here")
    raw_message.refresh_from_db()
    assert raw_message.state == "filtered"

    row = page.locator("tr", has=page.locator(f"a[href$='/intake/{raw_message.pk}/source/']"))
    row.locator("details.assign > summary").click()
    expect(row.get_by_label("or a new ticket from")).to_have_value("pat@mailbox.example")
    row.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    raw_message.refresh_from_db()
    ticket = raw_message.message.ticket
    expect(page.locator(".flash")).to_contain_text(f"is now on ticket #{ticket.number}")
    assert ticket.workspace == dental and ticket.contact.primary_email == "pat@mailbox.example"
    page.goto(ticket_url(ticket))
    expect(page.locator(f"#m{raw_message.message.pk}")).to_contain_text("my new number is 555-0199")
    assert RawMessage.objects.get(pk=raw_message.pk).state == "processed"
