import datetime as dt

import pytest
from django.utils import timezone

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_create_or_update_lead, do_find_or_create_contact
from lbsup.crm.models import Lead
from lbsup.playbooks.active import active_playbook
from lbsup.tickets.actions import do_create_ticket
from lbsup.webhooks.actions import do_create_endpoint
from lbsup.webhooks.models import Delivery


def new_lead(workspace, email, text):
    contact = do_find_or_create_contact(SYSTEM, workspace, email)
    ticket = do_create_ticket(SYSTEM, workspace, contact=contact, subject="Whitening?", channel="email", text=text)
    category = next(c for c in active_playbook(workspace)[1].categories if c.handling == "qualify")
    return do_create_or_update_lead(ticket, category=category, text=text, details=[])


@pytest.fixture
def leads(personas, dental_playbook):
    first = new_lead(personas.dental, "kim@mailbox.example", "I'd like whitening. We have Cigna.")
    second = new_lead(personas.dental, "lee@mailbox.example", "Do you do Invisalign?")
    return first, second


@pytest.fixture
def hook(personas):
    return do_create_endpoint(personas.lena, personas.dental, url="https://crm.example/hook",
                              event_types=["lead.updated"])


def test_it_lists_leads_with_filters_and_reads_one(personas, tokens, api, leads):
    first, second = leads
    alice = api(tokens.alice)

    def ids(**params):
        response = alice.get("leads", params)
        assert response.status_code == 200, response.content
        return [lead["id"] for lead in response.json()["results"]]

    assert ids() == [second.pk, first.pk]
    Lead.objects.filter(pk=first.pk).update(stage=Lead.Stage.QUALIFIED, owner=personas.bob,
                                            updated_at=timezone.now() + dt.timedelta(minutes=5))
    assert ids(stage="qualified") == [first.pk]
    assert ids(owner="bob") == [first.pk] and ids(owner="none") == [second.pk]
    assert ids(updated_since=(timezone.now() + dt.timedelta(minutes=1)).isoformat()) == [first.pk]
    assert ids(category=first.category) == [second.pk, first.pk] and ids(category="complaint") == []
    assert ids(limit=1) == [second.pk]
    body = alice.get(f"leads/{first.pk}").json()
    assert body["ticket"] == first.ticket.number and body["contact"]["email"] == "kim@mailbox.example"
    assert body["stage"] == "qualified" and body["next_stages"] == ["handed_over", "lost"]
    assert body["answers"]["insurance_carrier"] and "preferred_times" in body["missing"]
    assert body["team"] == "front-desk" and body["owner"] == "bob"


def test_it_needs_updated_since_with_a_time_zone_and_takes_any_year(tokens, api, leads):
    naive = api(tokens.alice).get("leads", {"updated_since": "2025-03-10T10:00:00"})
    assert naive.status_code == 422 and naive.json()["error"]["details"][0]["loc"] == ["query", "updated_since"]
    assert len(api(tokens.alice).get("leads", {"updated_since": "0001-01-01T00:00:00+05:00"}).json()["results"]) == 2
    assert api(tokens.alice).get("leads", {"updated_since": "9999-12-31T23:59:59-05:00"}).json()["results"] == []


def test_it_hides_another_workspaces_leads(personas, tokens, api, leads):
    shop_lead = Lead.objects.create(workspace=personas.shop, contact=personas.shop_ticket.contact,
                                    ticket=personas.shop_ticket, category="sales", created_at=timezone.now(),
                                    updated_at=timezone.now())
    assert api(tokens.alice).get(f"leads/{shop_lead.pk}").status_code == 404
    assert api(tokens.lena).patch(f"leads/{shop_lead.pk}", {"next_step": "x"}).status_code == 404
    assert shop_lead.pk not in [lead["id"] for lead in api(tokens.alice).get("leads").json()["results"]]
    assert api(tokens.charlie).get(f"leads/{leads[0].pk}").status_code == 404


def test_it_moves_the_stage_as_the_person_and_sends_lead_updated(personas, tokens, api, leads, hook):
    lead = leads[0]
    response = api(tokens.alice).patch(f"leads/{lead.pk}", {"stage": "qualified"})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "qualified" and response.json()["owner"] == "alice"
    event = AuditEvent.objects.get(verb="lead.stage_changed")
    assert event.actor_user == personas.alice and event.data["after"] == "qualified"
    delivery = Delivery.objects.get(event_type="lead.updated", payload__change="stage_changed")
    assert delivery.payload["stage"] == "qualified" and delivery.payload["owner"] == "alice"


def test_it_changes_owner_and_next_step_and_sends_lead_updated(personas, tokens, api, leads, hook):
    lead = leads[0]
    due = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    response = api(tokens.lena).patch(f"leads/{lead.pk}", {"owner": "bob", "next_step": "Call about Cigna",
                                                           "due_at": due.isoformat()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["owner"] == "bob" and body["next_step"] == "Call about Cigna" and body["stage"] == "new"
    assert dt.datetime.fromisoformat(body["due_at"]) == due
    delivery = Delivery.objects.get(event_type="lead.updated", payload__change="updated")
    assert delivery.payload["owner"] == "bob" and delivery.payload["next_step"] == "Call about Cigna"
    assert AuditEvent.objects.get(verb="lead.updated").actor_user == personas.lena


def test_it_explains_a_stage_the_lead_cannot_reach_and_changes_nothing(tokens, api, leads, hook):
    lead = leads[0]
    skipped = api(tokens.alice).patch(f"leads/{lead.pk}", {"stage": "won", "owner": "bob"})
    assert skipped.status_code == 409
    assert skipped.json()["error"]["details"] == {"next_stages": ["qualified", "lost"]}
    lost = api(tokens.alice).patch(f"leads/{lead.pk}", {"stage": "lost", "owner": "bob"})
    assert lost.status_code == 422 and "why" in lost.json()["error"]["message"]
    unknown = api(tokens.alice).patch(f"leads/{lead.pk}", {"stage": "qualified", "owner": "charlie"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_user"
    assert api(tokens.alice).patch(f"leads/{lead.pk}", {"stage": "bogus"}).status_code == 422
    lead.refresh_from_db()
    assert lead.stage == "new" and lead.owner is None and not Delivery.objects.exists()


def test_it_changes_a_lead_only_with_a_persons_desk_token(tokens, api, leads):
    lead = leads[0]
    refused = api(tokens.service).patch(f"leads/{lead.pk}", {"stage": "qualified"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "person_required"
    assert api(tokens.olivia).patch(f"leads/{lead.pk}", {"stage": "qualified"}).status_code == 403
    assert api(tokens.charlie).patch(f"leads/{lead.pk}", {"stage": "qualified"}).status_code == 404
    lead.refresh_from_db()
    assert lead.stage == "new"
