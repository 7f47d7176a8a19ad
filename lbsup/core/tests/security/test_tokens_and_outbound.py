"""Issue #17, findings 5, 7, 13 and 14: a service token stops with its creator's standing;
a subject or name with a line break never reaches a header; the second approver of a draft
learns who sent it and when; a Unicode local part is sent with SMTPUTF8 or refused at review."""

import email
import io
import smtplib
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.contrib.admin.sites import site as admin_site
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client
from django.utils import timezone

from lbsup.api.actions import do_create_token
from lbsup.api.models import ApiToken
from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.drafts.actions import do_approve_draft
from lbsup.drafts.models import Draft
from lbsup.outbound.actions import Unsendable, do_approve_and_send, do_send, flag_stuck_sends
from lbsup.outbound.models import OutboundEmail
from lbsup.testing.mailservers import SmtpSink, _SinkHandler
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.actions import do_add_customer_message, do_create_ticket, do_split_message
from lbsup.tickets.history_import import import_history
from lbsup.tickets.models import Ticket
from lbsup.triage.actions import do_triage_message
from lbsup.workspaces.actions import do_remove_membership, do_set_membership
from lbsup.workspaces.models import Membership, Role


def api_get(token, path="tickets"):
    return Client().get(f"/api/w/bright-smile/{path}", headers={"Authorization": f"Bearer {token}"})


def service_token(personas, creator=None, role=Role.REPRESENTATIVE):
    return do_create_token(creator or personas.lena, personas.dental, name="order system", role=role,
                           kind=ApiToken.Kind.SERVICE)


# ---------------------------------------------------------------- 5: service tokens


@pytest.mark.parametrize("change", ["removed", "demoted below the token", "demoted to representative"])
def test_it_stops_a_service_token_once_its_creator_no_longer_backs_it_however_the_membership_changed(
        personas, change):
    do_set_membership(SYSTEM, personas.dental, personas.lena, Role.ADMIN)
    token = service_token(personas, role=Role.LEAD)
    assert api_get(token.plaintext).status_code == 200
    membership = Membership.objects.get(user=personas.lena, workspace=personas.dental)
    # Not through an action: the admin or a bulk change must not keep the token alive either.
    if change == "removed":
        membership.delete()
    else:
        Membership.objects.filter(pk=membership.pk).update(
            role=Role.REPRESENTATIVE if change == "demoted to representative" else Role.LEAD)
        if change == "demoted below the token":
            # a lead may hold a lead token: this one stays; a demotion below it is the next step
            assert api_get(token.plaintext).status_code == 200
            Membership.objects.filter(pk=membership.pk).update(role=Role.OWNER)
    response = api_get(token.plaintext)
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_creator_left"


def test_it_revokes_the_tokens_in_the_membership_action_and_names_them_for_the_leads(personas):
    kept = service_token(personas, creator=personas.lena)
    do_set_membership(SYSTEM, personas.dental, personas.bob, Role.LEAD)
    orphaned = service_token(personas, creator=personas.bob)
    bobs_own = do_create_token(personas.bob, personas.dental, name="bob's script", role=Role.LEAD)

    demoted = do_set_membership(personas.lena, personas.dental, personas.bob, Role.REPRESENTATIVE)
    assert [t.pk for t in demoted.revoked_tokens] == [orphaned.token.pk]
    assert api_get(orphaned.plaintext).json()["error"]["code"] == "token_revoked"
    assert api_get(bobs_own.plaintext).status_code == 200  # a person token only drops to his role
    summary = AuditEvent.objects.get(verb="api.tokens_revoked_with_membership")
    assert summary.actor_user == personas.lena and summary.data["member"] == "bob"
    assert [t["prefix"] for t in summary.data["tokens"]] == [orphaned.token.prefix]

    revoked = do_remove_membership(personas.lena, personas.dental, personas.bob)
    assert [t.pk for t in revoked] == [bobs_own.token.pk]
    assert api_get(kept.plaintext).status_code == 200
    assert ApiToken.objects.get(pk=orphaned.token.pk).revoked_by == personas.lena


def test_it_tells_whoever_removes_a_member_in_the_admin_which_tokens_stopped(personas, rf):
    # The admin's own hooks, called as the delete view calls them (its sign-in, with two
    # factors for provider admins, is another test's business).
    do_set_membership(SYSTEM, personas.dental, personas.bob, Role.LEAD)
    orphaned = service_token(personas, creator=personas.bob)
    request = rf.post("/admin/")
    request.user = personas.lena
    request.session = {}
    request._messages = FallbackStorage(request)
    membership = Membership.objects.get(user=personas.bob, workspace=personas.dental)
    admin_site._registry[Membership].delete_model(request, membership)
    [told] = [str(m) for m in get_messages(request)]
    assert f"lbs_{orphaned.token.prefix}_" in told and "order system" in told
    assert ApiToken.objects.get(pk=orphaned.token.pk).revoked_at is not None


# ---------------------------------------------------------------- 7: header values

BROKEN = "Crown\r\nBcc: everyone@evil.example\u2028again\x85"


@pytest.fixture
def reply_ticket(personas):
    ticket = personas.dental_ticket
    do_add_customer_message(SYSTEM, ticket, text="And another thing", message_id="more-1@mailbox.example")
    return ticket


def test_it_cleans_line_breaks_from_subjects_where_they_enter(personas, reply_ticket):
    created = do_create_ticket(SYSTEM, personas.dental, contact=reply_ticket.contact, subject=BROKEN,
                               channel="email", text="hi")
    assert created.subject == "Crown Bcc: everyone@evil.example again"
    message = reply_ticket.messages.get(message_id="more-1@mailbox.example")
    split = do_split_message(personas.alice, message, subject=BROKEN)
    assert split.subject == "Crown Bcc: everyone@evil.example again"

    export = io.StringIO(
        "Id,Subject,Requester,Requester email,Status,Via,Created at,Comment created at,Comment author role,Comment\n"
        '900,"Lamp\r\nBcc: x@evil.example","Kim\r\nLee",kim@mailbox.example,open,Mail,2025-02-03 09:15:00,'
        "2025-02-03 09:15:00,end-user,It broke\n", newline="")
    import_history(personas.dental, export)
    imported = Ticket.objects.get(workspace=personas.dental, contact__name="Kim Lee")
    assert imported.subject == "Lamp Bcc: x@evil.example"


def test_it_refuses_an_unbuildable_reply_before_the_worker_claims_it_never_needs_check(
        personas, reply_ticket, smtp):
    # A ticket stored before subjects were cleaned (or changed behind the actions) and a
    # workspace name from the admin.
    Ticket.objects.filter(pk=reply_ticket.pk).update(subject="Crown\r\nBcc: everyone@evil.example")
    reply_ticket.refresh_from_db()
    outbound = do_approve_and_send(personas.alice, reply_ticket, text="Hello", approval_key="legacy")
    assert "\n" not in outbound.subject and "\r" not in outbound.subject

    type(personas.dental).objects.filter(pk=personas.dental.pk).update(name="Bright\nSmile")
    OutboundEmail.objects.filter(pk=outbound.pk).update(subject="Re: Crown\r\nBcc: everyone@evil.example")
    outbound = do_send(outbound.pk)
    assert outbound.state == "failed" and outbound.attempts == 0  # never claimed
    assert "valid email" in outbound.last_error
    assert flag_stuck_sends() == [] and OutboundEmail.objects.get(pk=outbound.pk).state == "failed"
    assert smtp.messages == []


def test_it_sends_with_a_clean_from_name_when_the_workspace_name_has_a_line_break(personas, reply_ticket, smtp):
    type(personas.dental).objects.filter(pk=personas.dental.pk).update(name="Bright\r\nSmile Dental")
    reply_ticket.refresh_from_db()
    outbound = do_send(do_approve_and_send(personas.alice, reply_ticket, text="Hello", approval_key="k").pk)
    assert outbound.state == "sent", outbound.last_error
    [received] = smtp.wait_for(1)
    assert email.message_from_bytes(received.raw, policy=policy.default)["From"].addresses[0].display_name \
        == "Bright Smile Dental"


# ---------------------------------------------------------------- 13: the second approver


@pytest.fixture
def hours_draft(personas, dental_playbook):
    contact = do_find_or_create_contact(SYSTEM, personas.dental, "pat@mailbox.example", "Pat Doe")
    ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="Hours", channel="email",
                              text="what time do you open on saturday?")
    do_triage_message(ticket.messages.get(direction="inbound"))
    return ticket.drafts.get()


def approve_text(draft):
    return draft.text.replace("[[confirm: ", "").replace("]]", "")


def test_it_tells_the_second_approver_who_sent_the_draft_and_when_on_the_page_and_in_the_api(
        personas, hours_draft, smtp):
    personas.alice.first_name, personas.alice.last_name = "Alice", "Ng"
    personas.alice.save()
    text = approve_text(hours_draft)
    do_approve_draft(personas.alice, hours_draft, text, override_reason="checked")
    outbound = do_send(OutboundEmail.objects.get().pk)
    assert outbound.state == "sent"
    sent_at = timezone.localtime(outbound.sent_at, personas.dental.tz).strftime("%H:%M")

    bob = Client()
    assert bob.login(username="bob", password=PASSWORD)
    ticket = hours_draft.ticket
    page = bob.post(f"/w/bright-smile/desk/tickets/{ticket.number}/drafts/{hours_draft.pk}/",
                    {"decision": "approve", "text": text + " (bob's edit)", "override_reason": "checked"},
                    follow=True).content.decode()
    assert f"Already sent by Alice Ng at {sent_at}" in page
    assert "on its way" not in page

    lena = do_create_token(personas.lena, personas.dental, name="lena tool", role=Role.LEAD).plaintext
    response = Client().post(f"/api/w/bright-smile/drafts/{hours_draft.pk}/approve",
                             {"text": text, "override_reason": "checked"}, content_type="application/json",
                             headers={"Authorization": f"Bearer {lena}"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "already_approved" and f"Already sent by Alice Ng at {sent_at}" in error["message"]
    assert error["details"]["decided_by"] == "alice"
    assert OutboundEmail.objects.count() == 1 and len(smtp.messages) == 1
    assert Draft.objects.get(pk=hours_draft.pk).sent_text == text


# ---------------------------------------------------------------- 14: Unicode local parts


class AsciiSmtpSink(SmtpSink):
    """The project's sink without SMTPUTF8 (aiosmtpd's Controller announces it by default)."""

    def start(self):
        if self._controller is None:
            self._controller = Controller(_SinkHandler(self), hostname=self.host, port=self.port,
                                          data_size_limit=None, enable_SMTPUTF8=False)
            self._controller.start()
        return self


@pytest.fixture
def ascii_smtp(settings):
    with AsciiSmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
        yield sink


def unicode_ticket(personas):
    contact = do_find_or_create_contact(SYSTEM, personas.dental, "josé@mailbox.example", "José Ruiz")
    return do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="Cita", channel="email",
                            text="¿Puedo cambiar mi cita?")


def test_it_sends_to_a_unicode_local_part_with_smtputf8_when_the_server_offers_it(personas, smtp):
    assert smtplib.SMTP(smtp.host, smtp.port).ehlo()[1].count(b"SMTPUTF8") == 1
    ticket = unicode_ticket(personas)
    outbound = do_send(do_approve_and_send(personas.alice, ticket, text="Hola José", approval_key="j").pk)
    assert outbound.state == "sent", outbound.last_error
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ("josé@mailbox.example",)
    assert "To: josé@mailbox.example\r\n".encode() in received.raw  # UTF-8, not an encoded word
    mail = email.message_from_bytes(received.raw, policy=policy.SMTPUTF8)
    assert mail["To"] == "josé@mailbox.example"
    assert mail.get_body(("plain",)).get_content().startswith("Hola José")


def test_it_refuses_a_unicode_local_part_at_review_when_the_server_lacks_smtputf8(
        personas, ascii_smtp, dental_playbook):
    assert b"SMTPUTF8" not in smtplib.SMTP(ascii_smtp.host, ascii_smtp.port).ehlo()[1]
    ticket = unicode_ticket(personas)
    do_triage_message(ticket.messages.get(direction="inbound"))
    draft = ticket.drafts.get()
    [finding] = [f for f in draft.checks if f["rule"] == "recipient_unreachable"]
    assert finding["blocking"] and "SMTPUTF8" in finding["message"]

    with pytest.raises(Unsendable, match="SMTPUTF8"):
        do_approve_draft(personas.alice, draft, approve_text(draft), override_reason="I checked")
    with pytest.raises(Unsendable, match="SMTPUTF8"):
        do_approve_and_send(personas.alice, ticket, text="Hola")
    assert not OutboundEmail.objects.exists() and Draft.objects.get(pk=draft.pk).state == "proposed"

    alice = Client()
    assert alice.login(username="alice", password=PASSWORD)
    page = alice.get(f"/w/bright-smile/tickets/{ticket.number}/").content.decode()
    assert "SMTPUTF8" in page
    assert ascii_smtp.messages == []


def test_it_fails_a_queued_unicode_reply_clearly_if_the_server_drops_smtputf8_later(personas, smtp, settings):
    ticket = unicode_ticket(personas)
    outbound = do_approve_and_send(personas.alice, ticket, text="Hola", approval_key="later")
    with AsciiSmtpSink() as plain:
        settings.EMAIL_HOST, settings.EMAIL_PORT = plain.host, plain.port
        outbound = do_send(outbound.pk)
        assert plain.messages == []
    assert outbound.state == "failed" and "SMTPUTF8" in outbound.last_error
