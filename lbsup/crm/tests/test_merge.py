import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_create_contact, do_merge_contacts, do_set_contact_flags
from lbsup.crm.merge import MergeRefused
from lbsup.crm.models import Contact
from lbsup.tickets.actions import do_create_ticket


def test_it_merges_a_duplicate_with_its_emails_tickets_and_flags(personas):
    maria = personas.dental_ticket.contact
    duplicate = do_create_contact(SYSTEM, personas.dental, name="M. Gonzalez", emails=["mg@work.example"],
                                  phones=["+1 503 555 0100"])
    do_set_contact_flags(personas.alice, duplicate, vip=True, sensitive=False, reason="Referral source")
    second = do_create_ticket(SYSTEM, personas.dental, contact=duplicate, subject="Receipt", channel="email",
                              text="Can I get a receipt?")
    kept = do_merge_contacts(personas.alice, duplicate, maria)
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert set(kept.emails.values_list("email", flat=True)) == {"maria@mailbox.example", "mg@work.example"}
    assert set(kept.tickets.values_list("pk", flat=True)) == {personas.dental_ticket.pk, second.pk}
    assert second.messages.get().author_contact == kept
    assert kept.vip and "Referral source" in kept.flag_reason and "+1 503 555 0100" in kept.phones
    event = AuditEvent.objects.get(verb="contact.merged")
    assert event.actor_user == personas.alice and event.data["merged"]["emails"] == ["mg@work.example"]


def test_it_refuses_to_merge_a_contact_into_itself(personas):
    maria = personas.dental_ticket.contact
    with pytest.raises(MergeRefused, match="itself"):
        do_merge_contacts(personas.alice, maria, maria)


def test_it_refuses_to_merge_across_workspaces(personas):
    with pytest.raises(MergeRefused, match="different workspaces"):
        do_merge_contacts(personas.alice, personas.shop_ticket.contact, personas.dental_ticket.contact)
    assert Contact.objects.filter(pk=personas.shop_ticket.contact.pk).exists()


def test_it_lets_only_a_person_merge(personas):
    other = do_create_contact(SYSTEM, personas.dental, name="Dup", emails=["dup@x.example"])
    with pytest.raises(PermissionError):
        do_merge_contacts(SYSTEM, other, personas.dental_ticket.contact)
