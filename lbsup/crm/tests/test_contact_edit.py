"""Editing a contact (issue #19, item 10): name, addresses, phones and company, with an audit
trail; an address of another contact, another workspace's company and a header-breaking name
are refused or made safe."""

import pytest
from django.test import Client
from django.urls import reverse

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_create_company, do_create_contact, do_update_contact
from lbsup.crm.models import ContactEmail
from lbsup.testing.personas import PASSWORD


def client_for(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def edit_url(contact):
    return reverse("crm_contact_edit", args=[contact.workspace.slug, contact.pk])


def test_it_edits_a_contact_from_its_page_and_audits_what_it_was(personas):
    maria = personas.dental_ticket.contact
    ContactEmail.objects.filter(contact=maria).update(bounce_reason="mailbox full")
    clinic = do_create_company(SYSTEM, personas.dental, name="Gonzalez Family")
    response = client_for(personas.alice).post(edit_url(maria), {
        "name": "Maria  Gonzalez-Ruiz\r\nBcc: x@evil.example", "emails": "maria@mailbox.example\nMaria.G@Work.example",
        "phones": "(503) 555-0142\n\n+1 503 555 0199", "company": str(clinic.pk)})
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.name == "Maria Gonzalez-Ruiz Bcc: x@evil.example"  # one line: it never becomes a header
    assert list(maria.emails.order_by("id").values_list("email", flat=True)) == [
        "maria@mailbox.example", "maria.g@work.example"]
    assert ContactEmail.objects.get(email="maria@mailbox.example").bounce_reason == "mailbox full"  # kept, not re-made
    assert maria.phones == ["(503) 555-0142", "+1 503 555 0199"] and maria.company == clinic
    event = AuditEvent.objects.get(verb="contact.updated", target_id=str(maria.pk))
    assert event.actor_user == personas.alice
    assert event.data["before"]["name"] == "Maria Gonzalez" and event.data["after"]["company"] == clinic.pk
    assert "maria.g@work.example" in client_for(personas.bob).get(
        reverse("crm_contact", args=["bright-smile", maria.pk])).content.decode()


def test_it_refuses_an_address_of_another_contact_and_a_bad_one(personas):
    maria = personas.dental_ticket.contact
    do_create_contact(SYSTEM, personas.dental, name="Pat", emails=["pat@mailbox.example"])
    with pytest.raises(ValueError, match="belongs to Pat: merge"):
        do_update_contact(personas.alice, maria, emails=["maria@mailbox.example", "PAT@mailbox.example"])
    with pytest.raises(ValueError, match="not an email address"):
        do_update_contact(personas.alice, maria, emails=["maria at mailbox"])
    with pytest.raises(ValueError, match="needs an address"):
        do_update_contact(personas.alice, maria, emails=[])
    assert list(maria.emails.values_list("email", flat=True)) == ["maria@mailbox.example"]
    page = client_for(personas.alice).post(edit_url(maria), {"name": "M", "emails": "pat@mailbox.example"}, follow=True)
    assert "belongs to Pat" in page.content.decode()


def test_it_keeps_contacts_and_companies_inside_their_workspace(personas):
    maria, sam = personas.dental_ticket.contact, personas.shop_ticket.contact
    shop_company = do_create_company(SYSTEM, personas.shop, name="Northwind Wholesale")
    with pytest.raises(ValueError, match="another workspace"):
        do_update_contact(personas.alice, maria, company=shop_company)
    assert client_for(personas.alice).post(edit_url(maria), {"name": "M", "emails": "maria@mailbox.example",
                                                              "company": str(shop_company.pk)}).status_code == 404
    assert client_for(personas.charlie).post(edit_url(maria), {"name": "stolen"}).status_code == 404
    assert client_for(personas.olivia).post(edit_url(maria), {"name": "owner"}).status_code == 403
    assert client_for(personas.alice).post(reverse("crm_contact_edit", args=["bright-smile", sam.pk]),
                                           {"name": "x"}).status_code == 404
    maria.refresh_from_db()
    sam.refresh_from_db()
    assert (maria.name, sam.name) == ("Maria Gonzalez", "Sam Carter")


def test_it_records_nothing_when_nothing_changed(personas):
    maria = personas.dental_ticket.contact
    do_update_contact(personas.alice, maria, name="Maria Gonzalez", emails=["MARIA@mailbox.example"], phones=[])
    assert not AuditEvent.objects.filter(verb="contact.updated").exists()
