import pytest

from lbsup.audit.actors import ASSISTANT, SYSTEM
from lbsup.crm.actions import do_approve_crm_note, do_draft_crm_note, do_review_crm_note
from lbsup.crm.models import CrmNote
from lbsup.tickets.actions import do_assign, do_change_status, do_record_outbound
from lbsup.tickets.models import Status

DENTAL_FIELDS = ["patient_name", "contact", "category", "summary", "requested_time", "insurance_carrier",
                 "next_steps", "escalation"]


def test_it_drafts_a_note_in_the_playbook_format_when_a_ticket_is_resolved(personas, dental_playbook):
    ticket = personas.dental_ticket
    do_assign(personas.alice, ticket, personas.alice)
    do_record_outbound(personas.alice, ticket, text="Moved you to Tuesday 3:30pm.")
    do_change_status(personas.alice, ticket, Status.RESOLVED)
    note = CrmNote.objects.get(ticket=ticket)
    assert note.state == CrmNote.State.DRAFT
    assert [f["name"] for f in note.fields] == DENTAL_FIELDS
    assert note.value("patient_name") == "Maria Gonzalez"
    assert note.value("contact") == "Maria Gonzalez <maria@mailbox.example>"
    # Not triaged, so nothing read the time out of the message: left for the representative to fill in.
    requested = next(f for f in note.fields if f["name"] == "requested_time")
    assert requested["value"] == "" and requested["source"] == "" and requested["reviewed"] is False
    assert note.value("escalation") == "none"
    assert do_draft_crm_note(ASSISTANT, ticket) == note  # one draft per ticket


def test_it_approves_only_when_every_field_was_reviewed_by_a_person(personas, dental_playbook):
    note = do_draft_crm_note(personas.alice, personas.dental_ticket)
    names = [f["name"] for f in note.fields]
    with pytest.raises(ValueError, match="Review every field"):
        do_approve_crm_note(personas.alice, note, reviewed=names[:2])
    with pytest.raises(PermissionError):
        do_approve_crm_note(SYSTEM, note, reviewed=names)
    do_review_crm_note(personas.alice, note, values={"insurance_carrier": "Delta Dental"}, reviewed=names[:3])
    approved = do_approve_crm_note(personas.alice, note, reviewed=names[3:])
    assert approved.state == CrmNote.State.APPROVED and approved.approved_by == personas.alice
    assert approved.value("insurance_carrier") == "Delta Dental"
    with pytest.raises(ValueError, match="approved"):
        do_review_crm_note(personas.bob, approved, values={"summary": "changed later"})


def test_it_uses_default_fields_without_a_playbook(personas):
    note = do_draft_crm_note(ASSISTANT, personas.dental_ticket)
    assert [f["name"] for f in note.fields] == ["category", "summary", "details", "next_steps"]
    assert "cleaning" in note.value("summary")


def test_it_refuses_unknown_fields_and_huge_values(personas):
    note = do_draft_crm_note(ASSISTANT, personas.dental_ticket)
    with pytest.raises(ValueError, match="Unknown note field"):
        do_review_crm_note(personas.alice, note, values={"password": "x"})
    with pytest.raises(ValueError, match="longer than"):
        do_review_crm_note(personas.alice, note, values={"summary": "x" * 5000})
