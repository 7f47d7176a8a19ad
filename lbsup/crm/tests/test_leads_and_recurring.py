import datetime as dt

import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.crm.actions import (
    do_change_lead_stage,
    do_create_or_update_lead,
    do_flag_recurring,
)
from lbsup.crm.facts import qualification_answers
from lbsup.crm.models import Lead, RecurringIssue
from lbsup.playbooks.active import active_playbook
from lbsup.tickets.actions import do_create_ticket, do_route

T0 = dt.datetime(2025, 3, 10, 17, 0, tzinfo=dt.timezone.utc)  # Monday 10:00 in Los Angeles


def qualify_category(workspace):
    _, playbook = active_playbook(workspace)
    return next(c for c in playbook.categories if c.handling == "qualify")


def test_it_fills_qualification_answers_from_the_message_and_lists_the_rest(personas, dental_playbook):
    category = qualify_category(personas.dental)
    answers = qualification_answers(category, "I'm interested in Invisalign. I have Delta Dental PPO.", [])
    assert answers["treatment_interest"] == "I'm interested in Invisalign."
    assert answers["insurance_carrier"] == "I have Delta Dental PPO."
    assert "preferred_times" not in answers


def test_it_creates_a_routed_lead_with_next_step_and_due_date(personas, dental_playbook):
    category = qualify_category(personas.dental)
    team = personas.dental.teams.get(slug=category.team)  # front-desk
    ticket = personas.dental_ticket
    text = "Hi, I'd like whitening. We have Cigna."
    lead = do_create_or_update_lead(ticket, category=category, text=text, details=[], at=T0)
    assert lead.stage == Lead.Stage.NEW and lead.team == team
    assert set(lead.answers) == {"treatment_interest", "insurance_carrier"}
    assert lead.missing == ["preferred_times"]
    assert lead.next_step.startswith("Ask: Which days and times")
    assert lead.due_at > T0
    again = do_create_or_update_lead(ticket, category=category, text="Mornings work best", details=[], at=T0)
    assert again.pk == lead.pk and again.missing == [] and again.answers["preferred_times"] == "Mornings work best"


def test_it_moves_a_lead_through_its_stages_with_an_audit_trail(personas, dental_playbook):
    lead = do_create_or_update_lead(personas.dental_ticket, category=qualify_category(personas.dental),
                                    text="Whitening please", details=[], at=T0)
    with pytest.raises(ValueError, match="cannot become won"):
        do_change_lead_stage(personas.alice, lead, Lead.Stage.WON)
    for stage in (Lead.Stage.QUALIFIED, Lead.Stage.HANDED_OVER, Lead.Stage.WON):
        lead = do_change_lead_stage(personas.alice, lead, stage)
    assert lead.stage == Lead.Stage.WON and lead.owner == personas.alice
    with pytest.raises(ValueError, match="closed"):
        do_change_lead_stage(personas.alice, lead, Lead.Stage.LOST, reason="changed mind")
    trail = list(AuditEvent.objects.filter(verb="lead.stage_changed").order_by("id").values_list("data__after", flat=True))
    assert trail == ["qualified", "handed_over", "won"]


def test_it_needs_a_reason_to_mark_a_lead_lost(personas, dental_playbook):
    lead = do_create_or_update_lead(personas.dental_ticket, category=qualify_category(personas.dental),
                                    text="Whitening please", details=[], at=T0)
    with pytest.raises(ValueError, match="why"):
        do_change_lead_stage(personas.alice, lead, Lead.Stage.LOST)


def test_it_flags_the_third_ticket_on_the_same_issue_within_the_window(personas, dental_playbook):
    contact = personas.dental_ticket.contact
    tickets = []
    for days_ago in (20, 10, 5, 0):  # the first one is outside the 14-day window
        at = T0 - dt.timedelta(days=days_ago)
        ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="Bill", channel="email",
                                  text="Another billing question", at=at)
        do_route(SYSTEM, ticket, category="billing", team=None)
        tickets.append((ticket, do_flag_recurring(ticket, at=at)))
    assert [flag is not None for _, flag in tickets] == [False, False, False, True]
    flag = tickets[-1][1]
    assert flag.count == 3 and flag.within_days == 14 and flag.rule == "repeat_contact"
    assert list(contact.recurring_issues.all()) == [flag]
    assert AuditEvent.objects.filter(verb="ticket.recurring_issue").count() == 1
    assert RecurringIssue.objects.filter(ticket=tickets[-1][0]).exists()


def test_it_opens_a_lead_when_triage_reads_a_sales_inquiry(personas, dental_playbook):
    from lbsup.triage.actions import do_triage_message

    contact = personas.dental_ticket.contact
    ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="New patient consultation",
                              channel="email", text="Hi, I'm a new patient interested in Invisalign. "
                                                    "How much is a consultation? I have Delta Dental.")
    do_triage_message(ticket.messages.get())
    ticket.refresh_from_db()
    assert ticket.category == "new_patient"
    lead = Lead.objects.get(ticket=ticket)
    assert lead.team.slug == "front-desk" and "insurance_carrier" in lead.answers
    assert lead.missing == ["preferred_times"]
