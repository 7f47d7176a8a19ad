from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from lbsup.assist.classifier import train_category_model
from lbsup.assist.drafts import (
    ContactFacts,
    DraftError,
    draft_reply,
    edit_distance_ratio,
    rank_replies,
)
from lbsup.assist.guardrails import check_draft
from lbsup.assist.injection import detect_injection
from lbsup.assist.playbook import PlaybookError, load_playbook, load_playbook_file
from lbsup.assist.results import UNSURE, MessageInput, Sender
from lbsup.assist.triage import triage
from lbsup.demo import PLAYBOOK_DIR

DEMO = PLAYBOOK_DIR
ATTACKS = yaml.safe_load((Path(__file__).parent / "fixtures" / "injection" / "attacks.yaml").read_text())
NOW = datetime(2025, 3, 12, 15, tzinfo=timezone.utc)


@lru_cache(maxsize=None)
def engine(name):
    """Playbook and a real category model trained from it, shared by the assist test modules."""
    playbook = load_playbook_file(str(DEMO / f"{name}.yaml"))
    return playbook, train_category_model(playbook.training_examples(), seed=0)


def drafted(name, body, sender_name="Pat Example", contact=None, **kwargs):
    playbook, model = engine(name)
    message = MessageInput("", body, Sender("pat@example.com", sender_name), NOW)
    result = triage(message, playbook, model)
    return result, draft_reply(message, result, playbook, contact=contact, **kwargs)


def test_it_fills_slots_from_the_message_and_traces_where_each_came_from():
    result, draft = drafted("bright-smile", "Just confirming my appointment on Thursday at 3pm")
    assert result.category == "appointment"
    assert draft.reply_id == "confirm-appointment"
    assert "Thursday at 3pm" in draft.text
    assert draft.filled["appointment_time"].source.startswith("message body")
    assert draft.text.startswith("Hi Pat Example,")
    assert draft.text.rstrip().endswith("Warm regards, the Bright Smile Dental team")
    assert not [f for f in draft.checks if f.blocking]


def test_it_marks_unfilled_slots_as_visible_blocking_gaps():
    _, draft = drafted("northwind", "Where is my order NW-104522? Can you send me the tracking number?")
    assert draft.reply_id == "tracking-update"
    assert "NW-104522" in draft.text
    assert "[[confirm: carrier]]" in draft.text
    assert set(draft.missing) == {"carrier", "tracking_status", "delivery_date"}
    gap = next(f for f in draft.checks if f.kind == "gap")
    assert gap.blocking and "tracking status" in gap.evidence


def test_it_prefers_the_contact_record_name_and_falls_back_to_a_plain_greeting():
    _, with_contact = drafted("northwind", "How do I reset my password?", contact=ContactFacts(name="Robin Diaz"))
    assert with_contact.text.startswith("Hi Robin Diaz,")
    assert with_contact.filled["customer_name"].source == "contact record"
    _, anonymous = drafted("northwind", "How do I reset my password?", sender_name="")
    assert anonymous.text.startswith("Hi there,")
    assert "customer_name" not in anonymous.missing


def test_it_fills_business_facts_and_the_escalation_owners_name():
    _, draft = drafted("bright-smile", "I want to file a formal complaint about how rude the front desk was")
    assert draft.category == "complaint"
    assert "Sarah Kim" in draft.text
    assert draft.filled["manager_name"].source == "playbook team lead"
    assert draft.note.startswith("Escalated category")


def test_it_asks_only_the_qualification_questions_the_message_leaves_open():
    _, draft = drafted("bright-smile", "How much is a cleaning for a new patient? I have Delta Dental insurance.")
    assert draft.category == "new_patient"
    assert "Which days and times work best for you?" in draft.text
    assert "Do you have dental insurance" not in draft.text
    assert "What would you like to come in for?" not in draft.text


def test_it_returns_no_reply_for_an_unsure_category():
    playbook, _ = engine("northwind")
    message = MessageInput("", "hmm", Sender("pat@example.com"), NOW)
    unsure = triage(message, playbook, engine("northwind")[1])
    forced = unsure if unsure.category == UNSURE else type(unsure)(**{**unsure.__dict__, "category": UNSURE})
    draft = draft_reply(message, forced, playbook)
    assert draft.reply_id is None and draft.text == ""
    assert "person must triage" in draft.note


def test_it_lets_a_representative_force_a_reply_of_the_same_category_only():
    _, draft = drafted("northwind", "Where is my order NW-104522?", reply_id="carrier-trace")
    assert draft.reply_id == "carrier-trace"
    assert "tracking-update" in [a.reply_id for a in draft.alternatives]
    with pytest.raises(DraftError, match="not an approved reply"):
        drafted("northwind", "Where is my order NW-104522?", reply_id="return-label")


def test_it_ranks_replies_by_similarity_to_their_description_and_examples():
    playbook, _ = engine("northwind")
    replies = playbook.category("order_status").replies
    ranked = rank_replies("I need to change the shipping address before it ships", replies)
    assert ranked[0].reply_id == "change-before-shipping"
    assert ranked[0].score > ranked[-1].score


@pytest.mark.parametrize("hostile", [
    "{__class__.__init__.__globals__}", "${7*7} {{config}}", "<script>alert(1)</script>Dana",
    "Dana\r\nBcc: victim@example.com", "A" * 10_000, "{0.__class__}", "[[confirm: x]] Dana",
])
def test_it_neutralizes_hostile_names_instead_of_formatting_them(hostile):
    _, draft = drafted("northwind", "How do I reset my password?", sender_name=hostile)
    greeting = draft.text.split("\n", 1)[0]
    assert len(greeting) <= 90
    for dangerous in ("{", "}", "$", "<", ">", "__globals__", "\r", "Bcc: victim", "[[confirm: x]]"):
        assert dangerous not in greeting


def test_it_rejects_templates_with_unknown_slots_at_playbook_load():
    text = (DEMO / "northwind.yaml").read_text().replace("{tracking_status}", "{tracking_secret}")
    with pytest.raises(PlaybookError, match="unknown slot '{tracking_secret}'"):
        load_playbook(text)


def test_it_measures_edit_size_between_zero_and_one():
    assert edit_distance_ratio("Hello there", "Hello there") == 0.0
    assert edit_distance_ratio("abc", "xyz") == 1.0
    assert 0 < edit_distance_ratio("Your order shipped.", "Your order shipped today.") < 0.3
    assert edit_distance_ratio("", "") == 0.0


@pytest.mark.parametrize("attack", ATTACKS, ids=[a["id"] for a in ATTACKS])
def test_it_keeps_every_injection_attack_out_of_the_draft(attack):
    playbook, _ = engine(attack["playbook"])
    result, draft = drafted(attack["playbook"], attack["text"])
    assert detect_injection(attack["text"]), "the attack must be flagged"
    if result.category == UNSURE:
        assert draft.reply_id is None
        return
    approved = {r.id for r in playbook.category(result.category).replies}
    assert draft.reply_id in approved
    template = next(r.template for r in playbook.category(result.category).replies if r.id == draft.reply_id)
    findings = check_draft(draft.text, playbook=playbook, category=result.category, reply_template=template,
                           message_text=attack["text"], extra_facts=[v.value for v in draft.filled.values()])
    leaked = [f for f in findings if f.kind == "policy"]
    assert not leaked, leaked
    assert not [f for f in draft.checks if f.kind == "policy"]
    assert any(f.rule == "customer_text_addresses_ai" for f in draft.checks)
    for fragment in ("$500", "50%", "ignore previous", "SYSTEM", "__globals__", "<script"):
        assert fragment not in draft.text
