import pytest
from django.db import OperationalError
from django.test import Client

from lbsup.audit.actors import ASSISTANT
from lbsup.audit.models import AuditEvent
from lbsup.intake import actions
from lbsup.intake.actions import (
    NotAllowedInThisState,
    do_accept_filtered,
    do_ingest,
    do_receive,
    do_retry_raw_message,
)
from lbsup.intake.imap import poll_mailbox
from lbsup.intake.models import Mailbox, RawMessage
from lbsup.testing.mailservers import find_free_port
from lbsup.testing.personas import PASSWORD

from .eml_fixtures import load_eml
from .test_mail_channels import numbered_mail

LIST = "/w/bright-smile/intake/"
RECONCILE = "/w/bright-smile/intake/reconcile/"


def logged_in(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def refuse_database_writes(*args, **kwargs):
    raise OperationalError("could not connect to server: Connection refused")


@pytest.fixture
def failed_raw_message(monkeypatch):
    """Mail stored raw-first whose processing failed because the database went away mid-way:
    the one external failure a retry must recover from."""
    def make(workspace, n=1):
        with monkeypatch.context() as outage:
            outage.setattr(actions, "do_find_or_create_contact", refuse_database_writes)
            with pytest.raises(OperationalError):
                do_ingest(workspace, numbered_mail(n), channel="imap")
        return RawMessage.objects.get(workspace=workspace, state="failed", subject=f"Question {n}")
    return make


# --- the inbound mail page: who may see it --------------------------------------------------------

@pytest.mark.parametrize("who, status", [("alice", 200), ("bob", 200), ("lena", 200), ("olivia", 403),
                                         ("charlie", 404)])
def test_it_opens_the_inbound_mail_page_for_desk_roles_only(personas, who, status):
    assert logged_in(getattr(personas, who)).get(LIST).status_code == status


def test_it_sends_anonymous_visitors_to_the_login_page(personas):
    response = Client().get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_lists_each_raw_message_with_its_state_detail_and_ticket(personas):
    processed = do_ingest(personas.dental, load_eml("gmail_reply.eml"), channel="eml")
    filtered = do_ingest(personas.dental, load_eml("out_of_office.eml"), channel="imap")
    html = logged_in(personas.alice).get(LIST).content.decode()
    assert processed.subject in html and processed.from_email in html
    assert f'/w/bright-smile/tickets/{processed.message.ticket.number}/' in html
    assert filtered.detail.split(":")[0] in html and "Make it a ticket" in html
    assert "Imported .eml" in html and "IMAP mailbox" in html


def test_it_filters_the_log_by_state(personas, failed_raw_message):
    do_ingest(personas.dental, load_eml("gmail_reply.eml"), channel="eml")
    failed = failed_raw_message(personas.dental)
    assert failed.subject == "Question 1" and failed.from_email == "customer1@mailbox.example"
    client = logged_in(personas.alice)
    failed_page = client.get(LIST, {"state": "failed"}).content.decode()
    assert "Connection refused" in failed_page and "customer1@mailbox.example" in failed_page and "Retry" in failed_page
    assert failed.subject not in client.get(LIST, {"state": "processed"}).content.decode()


def test_it_never_shows_another_workspaces_mail(personas):
    do_ingest(personas.shop, numbered_mail(7, to="help@northwind.example"), channel="smtp")
    assert "Question 7" not in logged_in(personas.alice).get(LIST).content.decode()
    assert "Question 7" in logged_in(personas.charlie).get("/w/northwind/intake/").content.decode()


# --- retry ---------------------------------------------------------------------------------------

def test_it_retries_failed_mail_into_a_ticket_and_records_who_asked(personas, failed_raw_message):
    raw_message = failed_raw_message(personas.dental)
    response = logged_in(personas.alice).post(f"{LIST}{raw_message.pk}/retry/", {"state": "failed"}, follow=True)
    raw_message.refresh_from_db()
    assert raw_message.state == "processed" and raw_message.attempts == 2
    assert raw_message.message.ticket.subject == "Question 1"
    assert response.redirect_chain[-1][0] == f"{LIST}?state=failed"
    event = AuditEvent.objects.get(verb="mail.retried")
    assert event.actor_user == personas.alice and event.data["last_error"] == "OperationalError: could not connect to server: Connection refused"


def test_it_shows_the_error_again_when_a_retry_fails(personas, failed_raw_message, monkeypatch):
    raw_message = failed_raw_message(personas.dental)
    monkeypatch.setattr(actions, "do_find_or_create_contact", refuse_database_writes)
    response = logged_in(personas.bob).post(f"{LIST}{raw_message.pk}/retry/", follow=True)
    raw_message.refresh_from_db()
    assert raw_message.state == "failed" and raw_message.attempts == 2
    assert "Connection refused" in raw_message.detail
    assert f"Message {raw_message.pk} failed again: OperationalError: could not connect" in response.content.decode()


def test_it_retries_mail_that_was_stored_but_never_processed(personas):
    raw_message = do_receive(personas.dental, numbered_mail(2), channel="smtp")
    assert raw_message.state == "received"
    logged_in(personas.alice).post(f"{LIST}{raw_message.pk}/retry/")
    raw_message.refresh_from_db()
    assert raw_message.state == "processed"


def test_it_refuses_to_retry_settled_mail(personas):
    raw_message = do_ingest(personas.dental, numbered_mail(3), channel="smtp")
    response = logged_in(personas.alice).post(f"{LIST}{raw_message.pk}/retry/", follow=True)
    assert "already settled" in response.content.decode()
    assert not AuditEvent.objects.filter(verb="mail.retried").exists()
    with pytest.raises(NotAllowedInThisState):
        do_retry_raw_message(personas.alice, raw_message)


@pytest.mark.parametrize("who, status", [("olivia", 403), ("charlie", 404)])
def test_it_lets_no_owner_or_outsider_retry(personas, failed_raw_message, who, status):
    raw_message = failed_raw_message(personas.dental)
    assert logged_in(getattr(personas, who)).post(f"{LIST}{raw_message.pk}/retry/").status_code == status
    raw_message.refresh_from_db()
    assert raw_message.state == "failed"


def test_it_answers_404_for_a_raw_message_of_another_workspace(personas, failed_raw_message):
    theirs = failed_raw_message(personas.shop)
    assert logged_in(personas.alice).post(f"{LIST}{theirs.pk}/retry/").status_code == 404


def test_it_retries_only_on_post(personas, failed_raw_message):
    raw_message = failed_raw_message(personas.dental)
    assert logged_in(personas.alice).get(f"{LIST}{raw_message.pk}/retry/").status_code == 405


def test_it_leaves_retrying_to_a_person(personas, failed_raw_message):
    with pytest.raises(PermissionError):
        do_retry_raw_message(ASSISTANT, failed_raw_message(personas.dental))


# --- accepting filtered mail ----------------------------------------------------------------------

def test_it_makes_a_ticket_of_filtered_mail_a_person_says_is_real(personas):
    raw_message = do_ingest(personas.dental, load_eml("out_of_office.eml"), channel="imap")
    assert raw_message.state == "filtered" and raw_message.message is None
    response = logged_in(personas.alice).post(f"{LIST}{raw_message.pk}/accept/", follow=True)
    raw_message.refresh_from_db()
    assert raw_message.state == "processed"
    ticket = raw_message.message.ticket
    assert f"is now on ticket #{ticket.number}" in response.content.decode()
    assert raw_message.detail.startswith("accepted by alice although it looked automatic")
    assert AuditEvent.objects.get(verb="mail.accepted").actor_user == personas.alice


def test_it_accepts_only_filtered_mail(personas):
    raw_message = do_ingest(personas.dental, numbered_mail(4), channel="smtp")
    response = logged_in(personas.alice).post(f"{LIST}{raw_message.pk}/accept/", follow=True)
    assert "Only filtered mail can be accepted" in response.content.decode()
    with pytest.raises(PermissionError):
        do_accept_filtered(ASSISTANT, do_ingest(personas.dental, load_eml("bounce.eml"), channel="imap"))


@pytest.mark.parametrize("who, status", [("olivia", 403), ("charlie", 404)])
def test_it_lets_no_owner_or_outsider_accept_filtered_mail(personas, who, status):
    raw_message = do_ingest(personas.dental, load_eml("out_of_office.eml"), channel="imap")
    assert logged_in(getattr(personas, who)).post(f"{LIST}{raw_message.pk}/accept/").status_code == status
    raw_message.refresh_from_db()
    assert raw_message.state == "filtered"


# --- reconcile ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, status", [("lena", 200), ("alice", 403), ("olivia", 403), ("charlie", 404)])
def test_it_opens_the_reconcile_page_for_leads_and_admins_only(personas, who, status):
    assert logged_in(getattr(personas, who)).get(RECONCILE).status_code == status


def test_it_links_to_reconcile_only_for_leads(personas):
    assert "Reconcile mailbox" in logged_in(personas.lena).get(LIST).content.decode()
    assert "Reconcile mailbox" not in logged_in(personas.alice).get(LIST).content.decode()


def test_it_lists_mail_missing_here_with_the_last_poll(personas, imap_server):
    mailbox = Mailbox.objects.create(workspace=personas.dental, host=imap_server.host, port=imap_server.port,
                                     use_ssl=False, username=imap_server.username, password=imap_server.password)
    imap_server.append(numbered_mail(1))
    poll_mailbox(mailbox)
    imap_server.append(numbered_mail(2))  # arrived after the last poll: not stored yet
    client = logged_in(personas.lena)
    before = client.get(RECONCILE).content.decode()
    assert "ago" in before and "never" not in before  # last poll time
    html = client.post(RECONCILE, {"days": "3"}).content.decode()
    assert "2 messages on the server over the last 3 days, 1 of them stored here." in html
    assert "Missing here (1)" in html and "Question 2" in html and "Question 1</li>" not in html


def test_it_reports_a_mailbox_it_cannot_reach_without_crashing(personas):
    Mailbox.objects.create(workspace=personas.dental, host="127.0.0.1", port=find_free_port(), use_ssl=False,
                           username="nobody", password="x", last_error="login failed yesterday")
    client = logged_in(personas.lena)
    assert "login failed yesterday" in client.get(RECONCILE).content.decode()
    html = client.post(RECONCILE, {"days": "not a number"}).content.decode()
    assert "Could not read the mailbox: ConnectionRefusedError" in html


def test_it_says_when_a_workspace_has_no_mailbox(personas):
    assert "This workspace has no IMAP mailbox." in logged_in(personas.lena).get(RECONCILE).content.decode()


# --- mail that could not be read: opened and assigned by hand -------------------------------------

UNREADABLE = b"\x00\x01garbage without any header\r\n\r\nMy tap is leaking, please call 555-0100\r\n"


def test_it_keeps_unreadable_mail_in_view_and_assigns_it_to_a_ticket_by_hand(personas):
    raw_message = do_ingest(personas.dental, UNREADABLE, channel="imap")
    assert raw_message.state == "rejected" and raw_message.detail
    client = logged_in(personas.alice)
    page = client.get(f"{LIST}?state=rejected").content.decode()
    assert raw_message.detail in page and "Assign by hand" in page
    source = client.get(f"{LIST}{raw_message.pk}/source/")
    assert source.content == UNREADABLE and source["Content-Disposition"].startswith("attachment")
    ticket = personas.dental_ticket
    client.post(f"{LIST}{raw_message.pk}/assign/", {"ticket": f"#{ticket.number}"})
    raw_message.refresh_from_db()
    assert raw_message.state == "processed" and raw_message.message.ticket == ticket
    assert "555-0100" in raw_message.message.text and "\x00" not in raw_message.message.text
    original = raw_message.message.attachments.get()
    assert original.filename == "original-mail.eml" and original.file.read() == UNREADABLE
    assert AuditEvent.objects.get(verb="mail.assigned").actor_user == personas.alice
    again = client.post(f"{LIST}{raw_message.pk}/assign/", {"ticket": str(ticket.number)}, follow=True)
    assert "Only rejected or filtered mail" in again.content.decode()


def test_it_opens_a_new_ticket_for_unreadable_mail_from_the_address_a_person_gives(personas):
    raw_message = do_ingest(personas.dental, UNREADABLE, channel="imap")
    client = logged_in(personas.alice)
    refused = client.post(f"{LIST}{raw_message.pk}/assign/", {"from_email": "not an address"}, follow=True)
    assert "Give the customer&#x27;s email address" in refused.content.decode()
    foreign = client.post(f"{LIST}{raw_message.pk}/assign/", {"ticket": str(personas.shop_ticket.number + 50)},
                          follow=True)
    assert "There is no ticket" in foreign.content.decode()
    client.post(f"{LIST}{raw_message.pk}/assign/", {"from_email": "Pat <pat@mailbox.example>"})
    raw_message.refresh_from_db()
    ticket = raw_message.message.ticket
    assert ticket.contact.primary_email == "pat@mailbox.example" and ticket.workspace == personas.dental


@pytest.mark.parametrize("who, status", [("olivia", 403), ("charlie", 404)])
def test_it_lets_no_owner_or_outsider_open_or_assign_mail(personas, who, status):
    raw_message = do_ingest(personas.dental, UNREADABLE, channel="imap")
    client = logged_in(getattr(personas, who))
    assert client.get(f"{LIST}{raw_message.pk}/source/").status_code == status
    assert client.post(f"{LIST}{raw_message.pk}/assign/", {"from_email": "x@y.example"}).status_code == status
    raw_message.refresh_from_db()
    assert raw_message.state == "rejected"
