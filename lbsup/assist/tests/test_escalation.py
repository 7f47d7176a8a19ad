from datetime import datetime, timedelta, timezone

from lbsup.assist.escalation import EscalationInput, evaluate_rules, must_not_be_routine
from lbsup.assist.playbook import load_playbook_file
from lbsup.assist.results import HistoryItem, TriageContext
from lbsup.demo import PLAYBOOK_DIR

NORTHWIND = load_playbook_file(str(PLAYBOOK_DIR / "northwind.yaml"))
NOW = datetime(2025, 3, 12, 15, tzinfo=timezone.utc)


def facts(text="where is my order", category="order_status", **overrides):
    values = dict(text=text, category=category, confidence=0.9, complaint=0.0, frustration=0.0, urgency="normal",
                  amounts=(), received_at=NOW)
    values.update(overrides)
    return EscalationInput(**values)


def fired(result):
    return {reason.rule: reason.evidence for reason in result}


def test_it_fires_nothing_for_a_calm_routine_message():
    assert evaluate_rules(NORTHWIND, facts(), TriageContext()) == ()


def test_it_reports_every_rule_that_fired_with_its_words_and_scores():
    result = fired(evaluate_rules(NORTHWIND, facts(
        "I will file a chargeback and leave reviews everywhere. I want to speak to a manager.",
        category="complaint", complaint=0.8, frustration=0.9, amounts=(320.0,)), TriageContext(vip=True)))
    assert fired and result["legal_or_payment_dispute"] == ("chargeback",)
    assert result["public_review_threat"] == ("reviews everywhere",)
    assert result["manager_requested"] == ("speak to a manager",)
    assert result["complaint_category"] == ("category=complaint",)
    assert result["strong_complaint"] == ("complaint=0.80",)
    assert result["very_frustrated"] == ("frustration=0.90",)
    assert result["vip_or_sensitive"] == ("contact is vip",)
    assert result["refund_over_limit"] == ("amount=320.00 > 250.00",)


def test_it_counts_repeat_contacts_on_one_category_within_the_window():
    recent = (HistoryItem("order_status", NOW - timedelta(days=2)), HistoryItem("order_status", NOW - timedelta(days=5)))
    old = (HistoryItem("order_status", NOW - timedelta(days=40)), HistoryItem("account", NOW - timedelta(days=1)))
    assert "repeat_contact" in fired(evaluate_rules(NORTHWIND, facts(), TriageContext(history=recent)))
    assert "repeat_contact" not in fired(evaluate_rules(NORTHWIND, facts(), TriageContext(history=old)))


def test_it_keeps_complaints_and_emergencies_out_of_routine_handling():
    assert must_not_be_routine(True, 0.0, "normal")
    assert must_not_be_routine(False, 0.65, "normal")
    assert must_not_be_routine(False, 0.0, "urgent")
    assert must_not_be_routine(False, 0.1, "high") == ()
