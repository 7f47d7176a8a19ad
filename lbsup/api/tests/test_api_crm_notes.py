import pytest

from lbsup.audit.actors import ASSISTANT
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_draft_crm_note
from lbsup.crm.models import CrmNote
from lbsup.webhooks.actions import do_create_endpoint
from lbsup.webhooks.models import Delivery


@pytest.fixture
def shop_note(personas):
    return do_draft_crm_note(ASSISTANT, personas.shop_ticket)


def test_it_lists_and_reads_notes_per_workspace_contact_and_ticket(personas, tokens, api, shop_note):
    note = do_draft_crm_note(ASSISTANT, personas.dental_ticket)
    maria = personas.dental_ticket.contact
    alice = api(tokens.alice)
    listed = alice.get("crm-notes").json()
    assert [n["id"] for n in listed["results"]] == [note.pk] and listed["next_cursor"] is None
    assert alice.get("crm-notes", {"state": "draft"}).json()["results"][0]["id"] == note.pk
    assert alice.get("crm-notes", {"state": "approved"}).json()["results"] == []
    assert [n["id"] for n in alice.get(f"contacts/{maria.pk}/crm-notes").json()["results"]] == [note.pk]
    assert [n["id"] for n in alice.get("tickets/1/crm-notes").json()] == [note.pk]
    body = alice.get(f"crm-notes/{note.pk}").json()
    assert body["ticket"] == 1 and body["contact"]["email"] == "maria@mailbox.example"
    assert body["state"] == "draft" and body["approved_by"] is None
    assert [f["name"] for f in body["fields"]] == ["category", "summary", "details", "next_steps"]
    assert "cleaning" in next(f for f in body["fields"] if f["name"] == "summary")["proposed"]
    # northwind's note, contact and ticket are not there for bright-smile
    assert alice.get(f"crm-notes/{shop_note.pk}").status_code == 404
    assert alice.get(f"contacts/{personas.shop_ticket.contact_id}/crm-notes").status_code == 404
    assert alice.get("tickets/99/crm-notes").status_code == 404
    assert b"Sam Carter" not in alice.get("crm-notes").content


def test_it_proposes_a_note_only_with_a_persons_desk_token(personas, tokens, api):
    body = {"values": {"summary": "Moved her cleaning to Tuesday 3:30pm"}}
    assert api(tokens.service).post("tickets/1/crm-notes", body).json()["error"]["code"] == "person_required"
    assert api(tokens.olivia).post("tickets/1/crm-notes", body).status_code == 403
    assert api(tokens.charlie).post("tickets/1/crm-notes", body).status_code == 404
    assert not CrmNote.objects.filter(workspace=personas.dental).exists()

    created = api(tokens.alice).post("tickets/1/crm-notes", body)
    assert created.status_code == 201, created.content
    summary = next(f for f in created.json()["fields"] if f["name"] == "summary")
    assert summary["value"] == "Moved her cleaning to Tuesday 3:30pm" and summary["reviewed"] is False
    again = api(tokens.lena).post("tickets/1/crm-notes", {})
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert AuditEvent.objects.filter(verb="crm_note.reviewed", actor_user=personas.alice).exists()


def test_it_refuses_a_field_the_note_format_does_not_have_and_keeps_nothing(personas, tokens, api):
    response = api(tokens.alice).post("tickets/1/crm-notes", {"values": {"password": "hunter2"}})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_note"
    assert not CrmNote.objects.exists()


def test_it_approves_a_note_as_the_person_once_every_field_is_reviewed(personas, tokens, api):
    do_create_endpoint(personas.lena, personas.dental, url="https://crm.example/hook",
                       event_types=["crm.note.approved"])
    note = do_draft_crm_note(ASSISTANT, personas.dental_ticket)
    names = [f["name"] for f in note.fields]
    path = f"crm-notes/{note.pk}/approve"
    assert api(tokens.service).post(path, {"reviewed": names}).status_code == 403
    assert api(tokens.olivia).post(path, {"reviewed": names}).status_code == 403
    assert api(tokens.charlie).post(path, {"reviewed": names}).status_code == 404

    partly = api(tokens.alice).post(path, {"reviewed": names[:2]})
    assert partly.status_code == 422 and "Review every field" in partly.json()["error"]["message"]
    approved = api(tokens.alice).post(path, {"values": {"next_steps": "Confirm by text"}, "reviewed": names})
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved" and approved.json()["approved_by"] == "alice"
    assert next(f for f in approved.json()["fields"] if f["name"] == "next_steps")["value"] == "Confirm by text"
    delivery = Delivery.objects.get(event_type="crm.note.approved")
    assert delivery.payload["approved_by"] == "alice" and delivery.payload["ticket"] == 1

    again = api(tokens.lena).post(path, {"reviewed": names})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
