import datetime
import email
from email import policy
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.desk.actions import do_mark_viewing
from lbsup.drafts.models import Draft
from lbsup.intake.actions import do_ingest
from lbsup.outbound.models import OutboundEmail
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.actions import do_add_customer_message
from lbsup.tickets.models import Ticket

from .conftest import triaged

LAWYER = ("This is the third time I'm writing about this bill. If nobody calls me today "
          "I will talk to my lawyer and dispute the charge with my bank.")
HOSTILE = Path(__file__).resolve().parents[2] / "intake" / "tests" / "fixtures" / "eml" / "hostile_html.eml"


def url(ticket, rest=""):
    return f"/w/{ticket.workspace.slug}/tickets/{ticket.number}/" if not rest else \
        f"/w/{ticket.workspace.slug}/desk/tickets/{ticket.number}/{rest}"


def open_draft(ticket):
    return ticket.drafts.get(state__in=["proposed", "saved"])


def filled(text):
    return text.replace("[[confirm: ", "").replace("]]", "")


def test_it_shows_the_evidence_the_draft_gaps_and_the_assistant_note(personas, dental_playbook, login):
    ticket = triaged(personas.dental, LAWYER, "Billing")
    html = login(personas.alice).get(url(ticket)).content.decode()
    assert '<mark class="evidence"' in html and "lawyer</mark>" in html
    draft = open_draft(ticket)
    assert draft.text in html.replace("&#x27;", "'") or "[[confirm:" not in draft.text
    if "[[confirm:" in draft.text:
        assert '<mark class="gap"' in html
    assert "The assistant&#x27;s internal note" in html or "The assistant's internal note" in html
    assert f'value="{draft.category}" selected' in html


def test_it_approves_an_edited_draft_and_records_who_and_the_edit_size(
        personas, dental_playbook, login, smtp, django_capture_on_commit_callbacks):
    ticket = triaged(personas.dental, "what time do you open on saturday?", "Hours")
    draft = open_draft(ticket)
    text = filled(draft.text) + "\n\nSee you soon!"
    with django_capture_on_commit_callbacks(execute=True):
        response = login(personas.alice).post(url(ticket, f"drafts/{draft.pk}/"),
                                              {"decision": "approve", "text": text})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "approved" and draft.decided_by == personas.alice and draft.edit_size > 0
    [received] = smtp.wait_for(1)
    assert "See you soon!" in email.message_from_bytes(received.raw, policy=policy.default).get_body(
        ("plain",)).get_content()
    page = login(personas.alice).get(url(ticket)).content.decode()
    assert "draft.approved" in page and "approved</strong> by alice" in page


def test_it_sends_one_email_when_two_people_approve_the_same_draft(
        personas, dental_playbook, login, smtp, django_capture_on_commit_callbacks):
    ticket = triaged(personas.dental, "what time do you open on saturday?", "Hours")
    draft = open_draft(ticket)
    text = filled(draft.text)
    alice, bob = login(personas.alice, Client()), login(personas.bob, Client())
    with django_capture_on_commit_callbacks(execute=True):
        first = alice.post(url(ticket, f"drafts/{draft.pk}/"), {"decision": "approve", "text": text})
        second = bob.post(url(ticket, f"drafts/{draft.pk}/"), {"decision": "approve", "text": text})
    assert first.status_code == second.status_code == 302
    assert OutboundEmail.objects.count() == 1 and len(smtp.wait_for(1)) == 1
    assert Draft.objects.get(pk=draft.pk).decided_by == personas.alice


def test_it_blocks_a_guardrail_finding_until_edited_or_overridden(personas, dental_playbook, login):
    ticket = triaged(personas.dental, "I was charged twice for my cleaning, please fix it", "Billing")
    draft = open_draft(ticket)
    risky = filled(draft.text) + "\n\nWe will refund you $500 and give you a 50% discount."
    client = login(personas.alice)
    response = client.post(url(ticket, f"drafts/{draft.pk}/"), {"decision": "approve", "text": risky})
    assert response.status_code == 422
    assert "Not sent" in response.content.decode() and "$500" in response.content.decode()  # typed text kept
    assert not OutboundEmail.objects.exists()
    response = client.post(url(ticket, f"drafts/{draft.pk}/"),
                           {"decision": "approve", "text": risky, "override_reason": "Dana approved it by phone"})
    assert response.status_code == 302 and OutboundEmail.objects.count() == 1
    assert AuditEvent.objects.get(verb="draft.guardrail_overridden").actor_user == personas.alice


def test_it_checks_the_draft_live_as_it_is_edited(personas, dental_playbook, login):
    ticket = triaged(personas.dental, "I was charged twice for my cleaning, please fix it", "Billing")
    draft = open_draft(ticket)
    client = login(personas.bob)
    response = client.post(url(ticket, f"drafts/{draft.pk}/check/"), {"text": "We guarantee a full refund."},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "blocks sending" in response.content.decode()
    response = client.post(url(ticket, f"drafts/{draft.pk}/check/"), {"text": "Hi [[confirm: name]],"})
    assert '<mark class="gap"' in response.content.decode()
    assert Draft.objects.get(pk=draft.pk).text == draft.text  # checking writes nothing


def test_it_saves_rejects_and_switches_replies(personas, dental_playbook, login):
    ticket = triaged(personas.dental, "Can I move my cleaning to next Tuesday after 3pm?", "Reschedule")
    draft = open_draft(ticket)
    client = login(personas.alice)
    client.post(url(ticket, f"drafts/{draft.pk}/"), {"decision": "save", "text": "Hi Pat, one moment."})
    assert Draft.objects.get(pk=draft.pk).state == "saved"
    assert "Hi Pat, one moment." in client.get(url(ticket)).content.decode()
    client.post(url(ticket, f"drafts/{draft.pk}/"), {"decision": "choose", "reply_id": "confirm-appointment"})
    switched = open_draft(ticket)
    assert switched.pk != draft.pk and switched.reply_id == "confirm-appointment"
    response = client.post(url(ticket, f"drafts/{switched.pk}/"), {"decision": "choose", "reply_id": "nope"},
                           follow=True)
    assert "not an approved reply" in response.content.decode()
    client.post(url(ticket, f"drafts/{switched.pk}/"), {"decision": "reject", "reason": "wrong tone"})
    assert Draft.objects.get(pk=switched.pk).state == "rejected"
    assert "draft.rejected" in client.get(url(ticket)).content.decode()


def test_it_overrides_the_category_in_one_step(personas, dental_playbook, login):
    ticket = triaged(personas.dental, "Can I move my cleaning to next Tuesday after 3pm?", "Reschedule")
    response = login(personas.alice).post(url(ticket, "category/"), {"category": "billing"}, follow=True)
    ticket.refresh_from_db()
    assert ticket.category == "billing" and ticket.category_source == "person"
    assert "triage.category_corrected" in response.content.decode()
    response = login(personas.alice).post(url(ticket, "category/"), {"category": "no-such"}, follow=True)
    assert "is not a category" in response.content.decode()


def test_it_notes_assigns_changes_status_and_escalates_each_as_one_audited_action(personas, login):
    ticket = personas.dental_ticket
    client = login(personas.alice)
    client.post(url(ticket, "note/"), {"text": "Called her back, no answer"})
    client.post(url(ticket, "assign/"), {"assignee": "bob"})
    client.post(url(ticket, "status/"), {"status": "waiting"})
    client.post(url(ticket, "escalation/"), {"escalate": "1", "reason": "asked for the manager"})
    ticket.refresh_from_db()
    assert ticket.assignee == personas.bob and ticket.status == "escalated"
    assert ticket.escalation_reason.startswith("person: asked for the manager")
    client.post(url(ticket, "escalation/"), {"escalate": "0", "reason": "manager called her"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    html = client.get(url(ticket)).content.decode()
    for verb in ("message.note", "ticket.assigned", "ticket.status_changed", "ticket.escalated", "ticket.deescalated"):
        assert verb in html
    assert "Called her back, no answer" in html
    assert AuditEvent.objects.filter(verb="ticket.assigned", actor_user=personas.alice).exists()


def test_it_says_why_an_action_failed_instead_of_crashing(personas, login):
    client = login(personas.alice)
    response = client.post(url(personas.dental_ticket, "note/"), {"text": "   "}, follow=True)
    assert "cannot be empty" in response.content.decode()
    response = client.post(url(personas.dental_ticket, "assign/"), {"assignee": "charlie"}, follow=True)
    assert "does not work tickets" in response.content.decode()
    response = client.post(url(personas.dental_ticket, "note/"), {"text": "x" * 20_001}, follow=True)
    assert "longer than" in response.content.decode()


def test_it_splits_a_message_into_a_new_ticket(personas, login):
    ticket = personas.dental_ticket
    second = do_add_customer_message(SYSTEM, ticket, text="Unrelated: my invoice 2231 is wrong")
    response = login(personas.alice).post(url(ticket, "split/"), {"message": second.pk, "subject": "Invoice 2231"})
    new = Ticket.objects.get(workspace=personas.dental, subject="Invoice 2231")
    assert response["Location"] == f"/w/bright-smile/tickets/{new.number}/"
    assert list(new.messages.values_list("text", flat=True)) == ["Unrelated: my invoice 2231 is wrong"]
    assert not ticket.messages.filter(pk=second.pk).exists()
    assert AuditEvent.objects.filter(verb="ticket.split", actor_user=personas.alice).exists()
    search = login(personas.alice).get("/w/bright-smile/", {"q": "invoice 2231"})
    assert [t.number for t in search.context["page"].tickets] == [new.number]
    only = login(personas.alice).post(url(new, "split/"), {"message": second.pk}, follow=True)
    assert "only customer message" in only.content.decode()


def test_it_shows_a_teammate_who_is_working_on_the_ticket(personas, login):
    ticket = personas.dental_ticket
    login(personas.alice, Client()).get(url(ticket))
    bob = login(personas.bob, Client())
    assert "alice is working on this" in bob.get(url(ticket)).content.decode()
    do_mark_viewing(ticket, personas.alice, editing=True)
    assert "alice is editing a reply" in bob.post(url(ticket, "presence/")).content.decode()
    do_mark_viewing(ticket, personas.alice, at=timezone.now() - datetime.timedelta(minutes=2))
    assert "alice" not in bob.post(url(ticket, "presence/")).content.decode()


def test_it_renders_hostile_mail_sanitized(personas, login):
    do_ingest(personas.dental, HOSTILE.read_bytes(), channel="email")
    ticket = Ticket.objects.get(workspace=personas.dental, subject="Please look at my account")
    html = login(personas.alice).get(url(ticket)).content.decode()
    assert "My account is locked." in html
    body = html.split('<div class="html-body">', 1)[1].split("</details>", 1)[0]
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<form", "expression("):
        assert bad not in body.lower()


@pytest.mark.parametrize("who, status", [("olivia", 403), ("charlie", 404)])
def test_it_refuses_every_desk_action_to_owners_and_outsiders(personas, login, who, status):
    ticket = personas.dental_ticket
    client = login(getattr(personas, who))
    assert client.get(url(ticket)).status_code == status
    for rest, data in [("note/", {"text": "hi"}), ("assign/", {"assignee": "me"}), ("status/", {"status": "closed"}),
                       ("escalation/", {"escalate": "1", "reason": "x"}), ("category/", {"category": "billing"}),
                       ("presence/", {}), ("split/", {"message": 1}), ("drafts/1/", {"decision": "approve"}),
                       ("drafts/1/check/", {"text": "x"})]:
        assert client.post(url(ticket, rest), data).status_code == status, rest
    assert not ticket.messages.filter(direction="note").exists()


def test_it_requires_a_csrf_token_for_every_post(personas):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="alice", password=PASSWORD)
    assert client.post(url(personas.dental_ticket, "note/"), {"text": "hi"}).status_code == 403
    assert not personas.dental_ticket.messages.filter(direction="note").exists()


def test_it_refuses_get_on_actions(personas, login):
    assert login(personas.alice).get(url(personas.dental_ticket, "note/")).status_code == 405


def test_it_links_the_next_and_previous_ticket_of_the_same_view(personas, dental_playbook, login):
    Ticket.objects.update(due_at=None)
    first = triaged(personas.dental, LAWYER, "Billing one", email="a@mailbox.example")
    second = triaged(personas.dental, LAWYER, "Billing two", email="b@mailbox.example")
    Ticket.objects.update(due_at=None, priority=2)
    html = login(personas.alice).get(url(second) + "?view=escalated").content.decode()
    assert f'/tickets/{first.number}/?view=escalated" data-key="j"' in html
    assert 'data-key="k"' not in html


def test_it_merges_a_ticket_into_another_from_the_ticket_page(personas, dental_playbook, login):
    target = personas.dental_ticket
    source = triaged(personas.dental, "Also: is Tuesday at 3 still free?", "Tuesday?", email="maria@mailbox.example")
    client = login(personas.alice)
    assert "Merge into another ticket" in client.get(url(source)).content.decode()
    missing = client.post(url(source, "merge/"), {"into": str(personas.shop_ticket.number + 100)}, follow=True)
    assert "There is no ticket" in missing.content.decode()
    response = client.post(url(source, "merge/"), {"into": f"#{target.number}", "reason": "same appointment"})
    assert response["Location"] == f"/w/bright-smile/tickets/{target.number}/"
    assert target.messages.filter(text__startswith="Also: is Tuesday").exists()
    source.refresh_from_db()
    assert source.merged_into == target and source.status == "closed"
    event = AuditEvent.objects.get(verb="ticket.merged", actor_user=personas.alice)
    assert event.data["into"] == target.number and event.data["reason"] == "same appointment"
    assert f"Merged into <a href=\"/w/bright-smile/tickets/{target.number}/\"" in client.get(url(source)).content.decode()
    again = client.post(url(source, "merge/"), {"into": str(target.number)}, follow=True)
    assert "already merged" in again.content.decode()


@pytest.mark.parametrize("ticked, copied", [(["carol@partner.example"], ["carol@partner.example"]), ([], [])])
def test_it_copies_the_conversation_on_the_reply_unless_unticked(
        personas, dental_playbook, login, smtp, django_capture_on_commit_callbacks, ticked, copied):
    ticket = triaged(personas.dental, "what time do you open on saturday?", "Hours",
                     participants=["pat@mailbox.example", "carol@partner.example"])
    draft = open_draft(ticket)
    client = login(personas.alice)
    page = client.get(url(ticket)).content.decode()
    assert 'name="cc" value="carol@partner.example" checked' in page and "On the conversation" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(ticket, f"drafts/{draft.pk}/"),
                    {"decision": "approve", "text": filled(draft.text), "cc_shown": "1", "cc": ticked})
    assert OutboundEmail.objects.get(ticket=ticket).cc_emails == copied
    [received] = smtp.wait_for(1)
    sent = email.message_from_bytes(received.raw, policy=policy.default)
    assert sent.get("Cc", "") == ", ".join(copied)
    assert set(received.rcpt_tos) == {"pat@mailbox.example", *copied}
