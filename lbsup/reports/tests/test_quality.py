import datetime

from django.utils import timezone

from lbsup.drafts.models import Draft
from lbsup.reports.quality import assist_quality
from lbsup.triage.models import LabelledExample


def draft(ticket, reply_id, state, edit_size=None, checks=()):
    message = ticket.messages.first()
    return Draft.objects.create(workspace=ticket.workspace, ticket=ticket, message=message, category="appointment",
                                reply_id=reply_id, proposed_text="Hi", text="Hi", state=state, edit_size=edit_size,
                                checks=list(checks))


def window():
    now = timezone.now()
    return now - datetime.timedelta(days=1), now + datetime.timedelta(minutes=1)


def test_it_counts_drafts_per_reply_with_the_most_edited_first(personas):
    t = personas.dental_ticket
    draft(t, "offer-slots", Draft.State.APPROVED, 0.0)
    draft(t, "offer-slots", Draft.State.REJECTED)
    draft(t, "running-late", Draft.State.APPROVED, 0.2)
    draft(t, "running-late", Draft.State.APPROVED, 0.4)
    draft(t, "running-late", Draft.State.APPROVED, 0.0)
    draft(t, "running-late", Draft.State.SUPERSEDED)
    quality = assist_quality(personas.dental, *window())
    late, slots = quality.replies
    assert (late.reply_id, late.proposed, late.approved_unchanged, late.approved_edited, late.rejected) == (
        "running-late", 3, 1, 2, 0)
    assert late.median_edit_size == 0.3
    assert (slots.reply_id, slots.proposed, slots.approved_unchanged, slots.rejected) == ("offer-slots", 2, 1, 1)
    assert (quality.totals.proposed, quality.totals.approved_edited) == (5, 2)


def test_it_tables_category_overrides_and_escalation_changes(personas):
    message = personas.dental_ticket.messages.first()
    for previous, label in (("general", "appointment"), ("general", "appointment"), ("billing", "insurance")):
        LabelledExample.objects.create(workspace=personas.dental, kind="category", text="x", label=label,
                                       previous=previous, message=message, created_by=personas.alice)
    LabelledExample.objects.create(workspace=personas.dental, kind="escalation", text="x", label="escalate",
                                   previous="do_not_escalate", message=message, created_by=personas.alice)
    quality = assist_quality(personas.dental, *window())
    assert [(o.previous, o.label, o.count) for o in quality.overrides] == [
        ("general", "appointment", 2), ("billing", "insurance", 1)]
    assert quality.escalations_added.ticket_ids == (personas.dental_ticket.pk,)
    assert quality.escalations_removed.value == 0


def test_it_counts_guardrail_findings_by_rule(personas):
    t = personas.dental_ticket
    draft(t, "offer-slots", Draft.State.PROPOSED, checks=[{"rule": "unknown_fact", "blocking": True}])
    draft(t, "offer-slots", Draft.State.APPROVED, 0.1, checks=[{"rule": "unknown_fact"}, {"rule": "tone"}])
    quality = assist_quality(personas.dental, *window())
    assert [(f.label, f.value) for f in quality.guardrail_findings] == [("unknown fact", 2), ("tone", 1)]


def test_it_keeps_other_workspaces_out_of_the_figures(personas):
    draft(personas.shop_ticket, "where-is-order", Draft.State.APPROVED, 0.5)
    assert assist_quality(personas.dental, *window()).replies == ()
