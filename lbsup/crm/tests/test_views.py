import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from lbsup.audit.actors import ASSISTANT, SYSTEM
from lbsup.crm.actions import do_approve_crm_note, do_create_contact, do_draft_crm_note
from lbsup.core.spreadsheet import safe_cell
from lbsup.crm.models import Contact, CrmNote
from lbsup.testing.personas import PASSWORD


def client_for(user):
    client = Client(enforce_csrf_checks=False)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("name", ["crm_contacts", "crm_notes", "crm_leads", "followups"])
def test_it_shows_crm_pages_to_the_desk_only(personas, name):
    url = reverse(name, args=["bright-smile"])
    assert client_for(personas.alice).get(url).status_code == 200
    assert client_for(personas.charlie).get(url).status_code == 404  # not a member
    assert client_for(personas.olivia).get(url).status_code == 403  # owner: reports only


def test_it_shows_the_contact_timeline_to_teammates_not_outsiders(personas):
    contact = personas.dental_ticket.contact
    url = reverse("crm_contact", args=["bright-smile", contact.pk])
    page = client_for(personas.bob).get(url)
    assert page.status_code == 200 and "Move my cleaning" in page.content.decode()
    assert client_for(personas.charlie).get(url).status_code == 404
    shop_contact = personas.shop_ticket.contact
    assert client_for(personas.alice).get(reverse("crm_contact", args=["bright-smile", shop_contact.pk])).status_code == 404


def test_it_merges_from_the_page_and_refuses_a_contact_of_another_workspace(personas):
    dental = personas.dental_ticket.contact
    duplicate = do_create_contact(SYSTEM, personas.dental, name="Maria G", emails=["mg@x.example"])
    client = client_for(personas.alice)
    url = reverse("crm_contact_merge", args=["bright-smile", duplicate.pk])
    assert client.post(url, {"into": personas.shop_ticket.contact.pk}).status_code == 404
    assert client.post(url, {"into": dental.pk}).status_code == 302
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    outsider = client_for(personas.charlie).post(reverse("crm_contact_merge", args=["bright-smile", dental.pk]),
                                                 {"into": dental.pk})
    assert outsider.status_code == 404


def test_it_needs_a_reason_to_flag_a_contact_from_the_page(personas):
    contact = personas.dental_ticket.contact
    client = client_for(personas.alice)
    url = reverse("crm_contact_flags", args=["bright-smile", contact.pk])
    client.post(url, {"vip": "on", "reason": ""})
    contact.refresh_from_db()
    assert not contact.vip
    client.post(url, {"vip": "on", "reason": "Long-time patient"})
    contact.refresh_from_db()
    assert contact.vip and contact.flag_reason == "Long-time patient"


def test_it_reviews_and_approves_a_note_field_by_field_from_the_page(personas):
    note = do_draft_crm_note(ASSISTANT, personas.dental_ticket)
    url = reverse("crm_note", args=["bright-smile", note.pk])
    client = client_for(personas.alice)
    assert client.get(url).status_code == 200
    values = {f"value-{f['name']}": f["value"] or "n/a" for f in note.fields}
    client.post(url, {**values, "action": "approve"})  # nothing ticked as reviewed
    assert CrmNote.objects.get(pk=note.pk).state == CrmNote.State.DRAFT
    ticks = {f"reviewed-{f['name']}": "on" for f in note.fields}
    client.post(url, {**values, **ticks, "action": "approve"})
    assert CrmNote.objects.get(pk=note.pk).state == CrmNote.State.APPROVED
    assert client_for(personas.charlie).get(url).status_code == 404


def test_it_exports_contacts_and_approved_notes_safe_against_formulas(personas):
    do_create_contact(SYSTEM, personas.dental, name="=HYPERLINK(\"http://evil\")", emails=["evil@x.example"])
    note = do_draft_crm_note(ASSISTANT, personas.dental_ticket)
    do_approve_crm_note(personas.alice, note, values={"summary": "+1 call back"},
                        reviewed=[f["name"] for f in note.fields])
    lena = client_for(personas.lena)
    response = lena.get(reverse("crm_contacts_csv", args=["bright-smile"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["id", "name"]
    assert "'=HYPERLINK(\"http://evil\")" in [r[1] for r in rows]
    notes = list(csv.reader(io.StringIO(b"".join(lena.get(reverse("crm_notes_csv", args=["bright-smile"]))
                                                 .streaming_content).decode())))
    assert notes[1][notes[0].index("summary")] == "'+1 call back"
    assert client_for(personas.alice).get(reverse("crm_contacts_csv", args=["bright-smile"])).status_code == 403
    assert client_for(personas.charlie).get(reverse("crm_notes_csv", args=["bright-smile"])).status_code == 404


def test_it_prefixes_every_formula_start():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "plain", None, 5, -3, 2.5)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "plain", "", "5", "-3", "2.5"]
