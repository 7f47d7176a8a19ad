import json
from datetime import timedelta

from django.utils import timezone

from lbsup.audit.models import AuditEvent
from lbsup.drafts.models import Draft
from lbsup.outbound.models import OutboundEmail
from lbsup.playbooks.models import PlaybookVersion
from lbsup.tickets.actions import do_assign, do_escalate
from lbsup.tickets.models import Ticket

INBOUND = {"from_email": "pat@mailbox.example", "from_name": "Pat Doe", "subject": "Crown fell out",
           "text": "My crown fell out this morning, can you see me today?"}


def test_it_creates_a_ticket_from_an_inbound_message_once_per_idempotency_key(personas, tokens, api):
    first = api(tokens.service).post("tickets", INBOUND, headers={"Idempotency-Key": "form-123"})
    again = api(tokens.service).post("tickets", INBOUND, headers={"Idempotency-Key": "form-123"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"]
    ticket = Ticket.objects.get(workspace=personas.dental, number=first.json()["number"])
    assert ticket.channel == "api" and ticket.subject == "Crown fell out"
    assert ticket.messages.get().text.startswith("My crown fell out")
    assert first.json()["contact"]["email"] == "pat@mailbox.example"


def test_it_refuses_an_idempotency_key_reused_for_a_different_message(personas, tokens, api):
    key = {"Idempotency-Key": "form-456"}
    first = api(tokens.service).post("tickets", INBOUND, headers=key)
    changed = api(tokens.service).post("tickets", {**INBOUND, "text": "Actually, tomorrow is fine."}, headers=key)
    assert first.status_code == 201 and changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert "different message" in changed.json()["error"]["message"]
    reordered = api(tokens.service).client.post(  # the same message, its JSON spelled differently
        "/api/w/bright-smile/tickets", json.dumps(dict(reversed(INBOUND.items())), indent=2),
        content_type="application/json", headers={"Authorization": f"Bearer {tokens.service}", **key})
    assert reordered.status_code == 200 and reordered.json()["number"] == first.json()["number"]
    ticket = Ticket.objects.get(workspace=personas.dental, number=first.json()["number"])
    assert [m.text for m in ticket.messages.all()] == [INBOUND["text"]]
    assert api(tokens.service).post("tickets", {**INBOUND, "text": "A new question"}).status_code == 201


def test_it_rejects_an_invalid_inbound_message_with_422(tokens, api):
    for body in ({**INBOUND, "from_email": "not an address"}, {**INBOUND, "text": ""}, {**INBOUND, "text": "  "},
                 {**INBOUND, "subject": "two\nlines"}, {**INBOUND, "from_name": "next\x85line"}):
        response = api(tokens.alice).post("tickets", body)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid"


def test_it_filters_the_queue_like_the_desk(personas, tokens, api):
    created = api(tokens.alice).post("tickets", INBOUND).json()
    second = Ticket.objects.get(workspace=personas.dental, number=created["number"])
    do_assign(personas.lena, personas.dental_ticket, personas.alice)
    do_escalate(personas.lena, second, reasons=["emergency"])

    def numbers(**params):
        response = api(tokens.alice).get("tickets", params)
        assert response.status_code == 200, response.content
        return [t["number"] for t in response.json()["results"]]

    assert numbers() == [second.number, personas.dental_ticket.number]
    assert numbers(assignee="alice") == [personas.dental_ticket.number]
    assert numbers(assignee="none") == [second.number]
    assert numbers(escalated="true") == [second.number]
    assert numbers(escalated="false") == [personas.dental_ticket.number]
    assert numbers(status="escalated") == [second.number]
    assert numbers(q="crown") == [second.number]
    assert numbers(q="maria") == [personas.dental_ticket.number]
    assert numbers(team="front-desk") == []
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert numbers(updated_since=future) == []


def test_it_pages_with_a_cursor_and_refuses_a_malformed_one(tokens, api):
    for n in range(3):
        api(tokens.alice).post("tickets", {**INBOUND, "subject": f"page {n}", "text": f"message {n}"})
    seen, cursor = [], None
    while True:
        body = api(tokens.alice).get("tickets", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["number"] for t in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [4, 3, 2, 1]
    forged = api(tokens.alice).get("tickets", {"cursor": "bm90LWEtY3Vyc29y"})
    assert forged.status_code == 422 and forged.json()["error"]["code"] == "invalid"


def test_it_answers_304_when_the_etag_still_matches(personas, tokens, api):
    first = api(tokens.alice).get("tickets/1")
    assert first.status_code == 200 and first["ETag"]
    assert api(tokens.alice).get("tickets/1", headers={"If-None-Match": first["ETag"]}).status_code == 304
    api(tokens.alice).post("tickets/1/notes", {"text": "Called her back"})
    changed = api(tokens.alice).get("tickets/1", headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_it_reads_one_ticket_with_its_messages(personas, tokens, api):
    body = api(tokens.alice).get("tickets/1").json()
    assert body["subject"] == "Move my cleaning"
    assert [m["direction"] for m in body["messages"]] == ["inbound"]
    assert api(tokens.alice).get("tickets/99").status_code == 404
    listed = api(tokens.alice).get("tickets/1/messages").json()
    assert [m["text"] for m in listed["results"]] == ["Can I move my cleaning to next Tuesday after 3pm?"]


def test_it_adds_an_internal_note_as_the_person_but_never_for_a_service_token(personas, tokens, api):
    response = api(tokens.alice).post("tickets/1/notes", {"text": "She prefers mornings"})
    assert response.status_code == 201
    note = personas.dental_ticket.messages.get(direction="note")
    assert note.author_user == personas.alice and response.json()["author_kind"] == "user"
    refused = api(tokens.service).post("tickets/1/notes", {"text": "from a robot"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "person_required"


def test_it_shows_triage_results_and_drafts(personas, tokens, api, draft):
    number = draft.ticket.number
    triage = api(tokens.alice).get(f"tickets/{number}/triage").json()
    assert triage[0]["category"] == draft.category and triage[0]["playbook_version"] == 1
    drafts = api(tokens.alice).get(f"tickets/{number}/drafts").json()
    assert [d["id"] for d in drafts] == [draft.pk]
    assert api(tokens.alice).get(f"drafts/{draft.pk}").json()["state"] == "proposed"


def test_it_approves_and_sends_a_draft_only_with_a_persons_desk_token(
        personas, tokens, api, draft, django_capture_on_commit_callbacks):
    text = draft.text.replace("[[", "").replace("]]", "")
    body = {"text": text, "override_reason": "checked the hours" if draft.missing else ""}
    assert api(tokens.service).post(f"drafts/{draft.pk}/approve", body).status_code == 403
    assert api(tokens.olivia).post(f"drafts/{draft.pk}/approve", body).status_code == 403
    assert api(tokens.charlie).post(f"drafts/{draft.pk}/approve", body).status_code == 404
    assert Draft.objects.get(pk=draft.pk).state == "proposed"
    with django_capture_on_commit_callbacks(execute=True):
        response = api(tokens.alice).post(f"drafts/{draft.pk}/approve", body)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "approved" and response.json()["decided_by"] == "alice"
    assert OutboundEmail.objects.filter(ticket=draft.ticket).count() == 1
    assert api(tokens.alice).post(f"drafts/{draft.pk}/approve", body).status_code == 200  # her own retry
    again = api(tokens.lena).post(f"drafts/{draft.pk}/approve", body)
    assert again.status_code == 409 and OutboundEmail.objects.filter(ticket=draft.ticket).count() == 1
    assert again.json()["error"]["code"] == "already_approved"


def test_it_refuses_a_risky_draft_with_the_guardrail_findings(tokens, api, draft):
    risky = draft.text + "\n\nWe will refund you $500 and give you a 50% discount."
    response = api(tokens.alice).post(f"drafts/{draft.pk}/approve", {"text": risky})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "guardrail_blocked" and any(f["blocking"] for f in error["details"])


def test_it_answers_409_for_a_decided_draft(personas, tokens, api, draft):
    from lbsup.drafts.actions import do_reject_draft

    do_reject_draft(personas.bob, draft, "wrong reply")
    response = api(tokens.alice).post(f"drafts/{draft.pk}/approve", {"override_reason": "x"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_it_uploads_a_playbook_for_approval_and_lists_versions(personas, tokens, api, dental_playbook):
    text = dental_playbook.text.replace("\n", "\n# revised\n", 1)
    response = api(tokens.lena).post("playbooks", {"text": text, "note": "reworded"})
    assert response.status_code == 201 and response.json()["state"] == "pending"
    assert response.json()["uploaded_by"] == "lena"
    assert [v["number"] for v in api(tokens.alice).get("playbooks").json()] == [2, 1]
    assert api(tokens.alice).get("playbooks/2").json()["text"] == text
    assert PlaybookVersion.objects.get(workspace=personas.dental, number=2).state == "pending"


def test_it_explains_what_is_wrong_with_an_invalid_playbook(tokens, api):
    response = api(tokens.lena).post("playbooks", {"text": "workspace: northwind\ncategories: 7\n"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_playbook" and all("line" in p and p["message"] for p in error["details"])


def test_it_creates_and_lists_contacts_and_companies(personas, tokens, api):
    company = api(tokens.service).post("companies", {"name": "Acme Dental Supply", "domain": "acme.example"})
    assert company.status_code == 201
    assert api(tokens.service).post("companies", {"name": "Acme Dental Supply"}).status_code == 409
    contact = api(tokens.service).post("contacts", {"name": "Jo Acme", "emails": ["jo@acme.example"],
                                                    "company_id": company.json()["id"]})
    assert contact.status_code == 201 and contact.json()["company"]["name"] == "Acme Dental Supply"
    assert api(tokens.alice).post("contacts", {"emails": ["jo@acme.example"]}).status_code == 409
    names = [c["name"] for c in api(tokens.alice).get("contacts").json()["results"]]
    assert names == ["Jo Acme", "Maria Gonzalez"]
    assert [c["name"] for c in api(tokens.alice).get("contacts", {"q": "acme"}).json()["results"]] == ["Jo Acme"]
    assert api(tokens.alice).get(f"contacts/{contact.json()['id']}").json()["emails"] == ["jo@acme.example"]
    shop_contact = personas.shop_ticket.contact
    assert api(tokens.alice).get(f"contacts/{shop_contact.pk}").status_code == 404
    assert AuditEvent.objects.filter(verb="contact.created", actor_kind="system", data__name="Jo Acme").exists()


def test_it_refuses_text_no_database_can_store_with_422(tokens, api):
    body = '{"from_email": "pat@mailbox.example", "text": "broken \\ud800 half"}'
    response = api(tokens.alice).client.post("/api/w/bright-smile/tickets", body, content_type="application/json",
                                             headers={"Authorization": f"Bearer {tokens.alice}"})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["loc"][-1] == "text"
