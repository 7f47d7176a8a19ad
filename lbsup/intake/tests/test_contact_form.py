import re
import types

import pytest
from django.contrib.staticfiles import finders
from django.core import signing
from django.core.cache import cache
from django.test import Client

from lbsup.audit.models import AuditEvent
from lbsup.demo import PLAYBOOK_DIR
from lbsup.intake.forms import issue_form_key
from lbsup.intake.models import RawMessage
from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook
from lbsup.tickets.models import Message, Ticket

DEMO_PLAYBOOKS = PLAYBOOK_DIR
URL = "/contact/bright-smile/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    # The rate-limit counters live in the process-wide cache and would leak between tests.
    cache.clear()
    # The limiter counts in fixed windows; on a slow machine six posts could straddle a window
    # boundary and reset the count. Its clock stands still inside one window here.
    import django_ratelimit.core

    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: 1_800_000_100.0))
    yield
    cache.clear()


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")


def open_form(browser, url=URL):
    page = browser.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form_key = re.search(r'name="form_key" value="([^"]+)"', html).group(1)
    return {"csrfmiddlewaretoken": token, "form_key": form_key, "name": "Dana Whitfield",
            "email": "dana@mailbox.example", "subject": "Whitening", "website": "",
            "message": "Do you offer teeth whitening, and how much is it?"}


def web_tickets(workspace):
    return Ticket.objects.filter(workspace=workspace, channel="web")


def test_it_turns_a_submission_into_a_web_ticket_from_that_contact(personas, browser):
    response = browser.post(URL, open_form(browser))
    assert response.status_code == 302 and response["Location"] == "/contact/bright-smile/thanks/"
    ticket = web_tickets(personas.dental).get()
    assert ticket.subject == "Whitening"
    assert ticket.contact.primary_email == "dana@mailbox.example" and ticket.contact.name == "Dana Whitfield"
    assert "teeth whitening" in ticket.messages.get().text
    raw_message = RawMessage.objects.get(workspace=personas.dental, channel="web")
    assert raw_message.state == "processed" and raw_message.source["ip"] == "203.0.113.7"


def test_it_refuses_a_post_without_the_csrf_token(personas, browser):
    data = open_form(browser)
    del data["csrfmiddlewaretoken"]
    assert browser.post(URL, data).status_code == 403
    assert not web_tickets(personas.dental).exists()


def test_it_makes_one_message_of_a_double_submission(personas, browser):
    data = open_form(browser)
    browser.post(URL, data)
    browser.post(URL, data)
    assert Message.objects.filter(ticket__in=web_tickets(personas.dental)).count() == 1
    # Within the same second the bytes are identical (one raw copy); later they differ only in
    # the Date header and the second copy is recorded as a duplicate of the same message.
    assert set(RawMessage.objects.filter(channel="web").values_list("state", flat=True)) <= {"processed", "duplicate"}
    assert RawMessage.objects.filter(channel="web").values("message").distinct().count() == 1


def test_it_makes_two_messages_of_two_separately_opened_forms(personas, browser):
    browser.post(URL, open_form(browser))
    browser.post(URL, open_form(browser))
    assert Message.objects.filter(ticket__workspace=personas.dental, ticket__channel="web").count() == 2


def test_it_thanks_a_bot_that_fills_the_honeypot_but_stores_nothing(personas, browser, caplog):
    data = {**open_form(browser), "website": "http://cheap-pills.example"}
    response = browser.post(URL, data)
    assert response.status_code == 302 and response["Location"] == "/contact/bright-smile/thanks/"
    assert not RawMessage.objects.exists() and not web_tickets(personas.dental).exists()
    assert "honeypot" in caplog.text


def test_it_hides_the_honeypot_from_people(personas, browser):
    html = browser.get(URL).content.decode()
    # Off-screen by the stylesheet: the page's CSP allows no inline style.
    assert re.search(r'<div aria-hidden="true" class="honeypot">\s*<label for="id_website">', html)
    assert re.search(r"\.honeypot\s*\{[^}]*left:\s*-10000px", open(finders.find("lbsup/app.css")).read())
    assert re.search(r'<input[^>]*name="website"[^>]*tabindex="-1"', html)


def test_it_limits_one_client_ip_to_five_messages_in_ten_minutes(personas, browser):
    statuses = []
    for n in range(6):
        data = {**open_form(browser), "email": f"sender{n}@mailbox.example"}
        statuses.append(browser.post(URL, data).status_code)
    assert statuses == [302] * 5 + [429]
    assert web_tickets(personas.dental).count() == 5


def test_it_limits_one_sender_address_across_client_ips(personas):
    statuses = []
    for n in range(6):
        browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"198.51.100.{n}")
        statuses.append(browser.post(URL, {**open_form(browser), "email": "Dana@Mailbox.example"}).status_code)
    assert statuses == [302] * 5 + [429]


def test_it_explains_the_rate_limit_in_plain_words(personas, browser):
    for _ in range(5):
        browser.post(URL, open_form(browser))
    response = browser.post(URL, open_form(browser))
    assert response.status_code == 429
    minutes = re.search(r"Please try again in (\d+) minutes?\.", response.content.decode())
    assert minutes and 1 <= int(minutes.group(1)) <= 10


def test_it_explains_a_message_over_the_size_limit(personas, browser):
    response = browser.post(URL, {**open_form(browser), "message": "x" * 20_001})
    assert response.status_code == 400
    assert "Please keep the message under 20,000 characters (it has 20001)" in response.content.decode()
    assert not RawMessage.objects.exists()


def test_it_accepts_a_message_of_exactly_the_size_limit(personas, browser):
    assert browser.post(URL, {**open_form(browser), "message": "y" * 20_000}).status_code == 302
    assert len(web_tickets(personas.dental).get().messages.get().text) == 20_000


def test_it_names_each_missing_or_invalid_field(personas, browser):
    data = {**open_form(browser), "name": "", "email": "not-an-address", "message": "   "}
    html = browser.post(URL, data).content.decode()
    for field in ("name", "email", "message"):
        assert f'aria-describedby="id_{field}_error"' in html and f'id="id_{field}_error"' in html
    assert 'value="not-an-address"' in html  # what was typed is kept


def test_it_keeps_the_same_form_key_when_showing_field_errors(personas, browser):
    data = open_form(browser)
    html = browser.post(URL, {**data, "email": "nope"}).content.decode()
    assert f'name="form_key" value="{data["form_key"]}"' in html


@pytest.mark.parametrize("forged", ["", "bright-smile:abc", "garbage:1a2b:sig"])
def test_it_refuses_a_missing_or_forged_form_key_and_issues_a_new_one(personas, browser, forged):
    data = {**open_form(browser), "form_key": forged}
    response = browser.post(URL, data)
    assert response.status_code == 400
    assert not RawMessage.objects.exists()
    new_key = re.search(r'name="form_key" value="([^"]+)"', response.content.decode()).group(1)
    assert new_key and new_key != forged


def test_it_refuses_a_form_key_issued_for_another_workspace(personas, browser):
    data = {**open_form(browser), "form_key": issue_form_key(personas.shop)}
    response = browser.post(URL, data)
    assert response.status_code == 400 and "This form has expired" in response.content.decode()


def test_it_refuses_an_expired_form_key(personas, browser):
    signer = signing.TimestampSigner(salt="lbsup.intake.contact-form")
    value, timestamp, _signature = signer.sign("bright-smile:0123abcd").rsplit(":", 2)
    two_days_ago = signing.b62_encode(signing.b62_decode(timestamp) - 2 * 24 * 3600)
    expired = f"{value}:{two_days_ago}:{signer.signature(f'{value}:{two_days_ago}')}"
    response = browser.post(URL, {**open_form(browser), "form_key": expired})
    assert response.status_code == 400 and "This form has expired" in response.content.decode()


def test_it_keeps_line_breaks_out_of_the_mail_headers(personas, browser):
    data = {**open_form(browser), "name": "Eve\r\nBcc: victim@example.org", "subject": "Hi\r\nX-Evil: 1"}
    assert browser.post(URL, data).status_code == 302
    raw = bytes(RawMessage.objects.get().raw)
    headers = raw.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\nX-Evil:" not in headers
    assert web_tickets(personas.dental).get().subject == "Hi X-Evil: 1"


def test_it_shows_404_for_an_unknown_workspace(personas, browser):
    assert browser.get("/contact/no-such-business/").status_code == 404
    assert browser.post("/contact/no-such-business/", {"name": "x"}).status_code in (403, 404)


def test_it_says_a_person_will_answer_without_a_deadline_when_there_is_no_playbook(personas, browser):
    text = " ".join(browser.get("/contact/bright-smile/thanks/").content.decode().split())
    assert "A person from Bright Smile Dental will read it and answer you by email." in text


def test_it_promises_the_slowest_first_response_target_of_the_playbook(personas, browser):
    text = (DEMO_PLAYBOOKS / "bright-smile.yaml").read_text()
    do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
    text = " ".join(browser.get("/contact/bright-smile/thanks/").content.decode().split())
    assert "answer you by email within 8 business hours (our hours: mon-thu: 8:00-17:00" in text


def test_it_records_no_audit_event_for_a_honeypot_submission(personas, browser):
    before = AuditEvent.objects.count()
    browser.post(URL, {**open_form(browser), "website": "x"})
    assert AuditEvent.objects.count() == before
