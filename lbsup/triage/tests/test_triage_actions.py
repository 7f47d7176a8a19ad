import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import do_find_or_create_contact, do_set_contact_flags
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.actions import do_create_ticket
from lbsup.triage.actions import (
    do_correct_category,
    do_set_escalation,
    do_triage_message,
)
from lbsup.triage.models import LabelledExample, TrainedModel, TriageRecord


def new_ticket(personas, text, subject="", email="pat@mailbox.example"):
    contact = do_find_or_create_contact(SYSTEM, personas.dental, email, "Pat Doe")
    return do_create_ticket(SYSTEM, personas.dental, contact=contact, subject=subject, channel="email", text=text)


def triage_first(ticket):
    return do_triage_message(ticket.messages.get(direction="inbound"))


def test_it_routes_a_ticket_by_the_playbook(personas, dental_playbook):
    ticket = new_ticket(personas, "Hi, could I reschedule my cleaning from Thursday to next Tuesday after 3pm?",
                        subject="Reschedule cleaning")
    record = triage_first(ticket)
    ticket.refresh_from_db()
    assert record.category == "appointment"
    assert ticket.category == "appointment" and ticket.category_source == "assistant"
    assert ticket.team.slug == record.result["team"]
    assert record.playbook_version == dental_playbook
    assert AuditEvent.objects.filter(verb="message.triaged", actor_kind="assistant").exists()


def test_it_escalates_with_the_words_that_fired(personas, dental_playbook):
    ticket = new_ticket(personas, "This is the third time I'm writing about this bill. If nobody calls me today "
                                  "I will talk to my lawyer and dispute the charge with my bank.", subject="Billing")
    record = triage_first(ticket)
    ticket.refresh_from_db()
    assert record.escalate
    assert ticket.status == "escalated"
    evidence = " ".join(" ".join(r["evidence"]) for r in record.result["escalation_reasons"]).lower()
    assert "lawyer" in evidence
    assert ticket.escalation_reason


def test_it_escalates_sensitive_contacts(personas, dental_playbook):
    contact = do_find_or_create_contact(SYSTEM, personas.dental, "quiet@mailbox.example", "Quiet Patient")
    do_set_contact_flags(personas.lena, contact, vip=False, sensitive=True, reason="Anxious patient, call first")
    ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="Question", channel="email",
                              text="Can you tell me what time my appointment is on Friday?")
    record = triage_first(ticket)
    assert any(r["rule"] for r in record.result["escalation_reasons"] if "sensitive" in " ".join(r["evidence"]))


def test_it_never_treats_an_emergency_as_routine(personas, dental_playbook):
    ticket = new_ticket(personas, "My face is swelling and my tooth is throbbing, I can't sleep. Can someone see me today?")
    record = triage_first(ticket)
    assert record.result["urgency"] in ("high", "urgent")
    assert record.result["handling"] != "routine"
    ticket.refresh_from_db()
    assert ticket.priority >= 2


def test_it_triages_each_message_once(personas, dental_playbook):
    ticket = new_ticket(personas, "what are your hours on saturday?")
    first = triage_first(ticket)
    again = triage_first(ticket)
    assert first.pk == again.pk
    assert TriageRecord.objects.count() == 1


def test_it_keeps_a_persons_category_and_learns_from_it(personas, dental_playbook, django_capture_on_commit_callbacks):
    ticket = new_ticket(personas, "Do you do Saturday appointments for kids?")
    triage_first(ticket)
    models_before = TrainedModel.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        do_correct_category(personas.alice, ticket, "new_patient", reason="family wants to join")
    ticket.refresh_from_db()
    assert (ticket.category, ticket.category_source) == ("new_patient", "person")
    example = LabelledExample.objects.get()
    assert example.label == "new_patient" and example.created_by == personas.alice
    # retraining ran as a job (inline in tests) and included the correction
    newest = TrainedModel.objects.first()
    assert TrainedModel.objects.count() == models_before + 1 and newest.corrections == 1
    assert AuditEvent.objects.filter(verb="triage.category_corrected", actor_user=personas.alice).exists()


def test_it_trains_anew_when_the_stored_model_is_from_an_earlier_classifier(personas, dental_playbook):
    import io

    import numpy as np

    from lbsup.triage import engine

    triage_first(new_ticket(personas, "Can I book a cleaning next week?"))
    stored = TrainedModel.objects.get()
    earlier_format = io.BytesIO()
    np.savez_compressed(earlier_format, meta=np.frombuffer(b'{"format": 1}', dtype=np.uint8))
    TrainedModel.objects.filter(pk=stored.pk).update(blob=earlier_format.getvalue())
    engine._model_cache.clear()  # as in a worker started after the upgrade

    record = triage_first(new_ticket(personas, "Could I move my appointment to Friday?", email="sam@mailbox.example"))
    assert record.category == "appointment"
    assert TrainedModel.objects.count() == 2 and TrainedModel.objects.exclude(pk=stored.pk).get().blob != b""


def test_it_refuses_an_unknown_category(personas, dental_playbook):
    with pytest.raises(ValueError):
        do_correct_category(personas.alice, personas.dental_ticket, "order_status")


def test_it_lets_a_person_remove_an_escalation_with_a_reason(personas, dental_playbook):
    ticket = new_ticket(personas, "I want to speak to a manager right now, this is ridiculous!!!")
    triage_first(ticket)
    ticket.refresh_from_db()
    assert ticket.status == "escalated"
    with pytest.raises(ValueError):
        do_set_escalation(personas.alice, ticket, False, reason=" ")
    do_set_escalation(personas.alice, ticket, False, reason="Talked to her, she is fine now")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert LabelledExample.objects.get().label == "do_not_escalate"


def test_it_shows_the_evidence_on_the_ticket_page(client, personas, dental_playbook):
    ticket = new_ticket(personas, "I'm going to call my lawyer about the $189.50 you charged me twice.")
    triage_first(ticket)
    client.login(username="alice", password=PASSWORD)
    page = client.get(f"/w/bright-smile/tickets/{ticket.number}/").content.decode()
    assert '<mark class="evidence"' in page and "lawyer</mark>" in page
    assert '<mark class="detail" title="money' in page
