from pathlib import Path

import pytest

from lbsup.assist.playbook import (
    PlaybookError,
    load_playbook,
    load_playbook_file,
    regex_problem,
)
from lbsup.demo import PLAYBOOK_DIR

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = PLAYBOOK_DIR
MINIMAL = (FIXTURES / "minimal.yaml").read_text()


def problems_of(text: str) -> list:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(text, source="test.yaml")
    return list(caught.value.problems)


@pytest.mark.parametrize("name", ["bright-smile", "northwind"])
def test_it_loads_the_demo_playbooks(name):
    playbook = load_playbook_file(str(DEMO / f"{name}.yaml"))
    assert playbook.workspace == name
    assert all(8 <= len(c.examples) <= 20 for c in playbook.categories)
    assert playbook.version.startswith(f"{name}@")


def test_it_keeps_the_fixed_demo_categories():
    bright = load_playbook_file(str(DEMO / "bright-smile.yaml"))
    north = load_playbook_file(str(DEMO / "northwind.yaml"))
    assert [c.slug for c in bright.categories] == [
        "appointment", "billing", "insurance", "new_patient", "complaint", "emergency", "general"]
    assert [c.slug for c in north.categories] == [
        "order_status", "returns_refunds", "product_question", "wholesale_inquiry", "complaint", "account", "general"]


def test_it_lists_training_examples_per_category():
    playbook = load_playbook(MINIMAL)
    pairs = playbook.training_examples()
    assert ("where is my order", "orders") in pairs
    assert {label for _, label in pairs} == {"orders", "complaint"}


def test_it_reports_every_problem_with_line_and_path():
    text = MINIMAL.replace("handling: routine", "handling: sometimes").replace("team: boss", "team: nobody")
    text = text.replace("tools_allowed: [tag, route, draft]", "tools_allowed: [tag, send]")
    problems = problems_of(text)
    by_path = {p.path: p for p in problems}
    assert "categories[0].handling" in by_path
    assert "categories[1].team" in by_path and "unknown team" in by_path["categories[1].team"].message
    assert "never allowed" in by_path["tools_allowed[1]"].message
    assert by_path["tools_allowed[1]"].line == 8


def test_it_rejects_send_synonyms():
    for tool in ("auto_send", "Send-Email", "reply"):
        problems = problems_of(MINIMAL.replace("[tag, route, draft]", f"[{tool}]"))
        assert any("never allowed" in p.message for p in problems)


def test_it_rejects_unknown_keys_and_duplicate_slugs():
    text = MINIMAL.replace("workspace: tiny", "workspace: tiny\ncolour: blue").replace("slug: complaint", "slug: orders")
    messages = " | ".join(str(p) for p in problems_of(text))
    assert "colour: unknown key" in messages
    assert "duplicate category 'orders'" in messages


def test_it_rejects_unknown_reply_slots_and_unused_required_slots():
    text = MINIMAL.replace('"Order {order_number} arrives {eta}."', '"Order {order_number} arrives {when}."')
    messages = [p.message for p in problems_of(text)]
    assert any("unknown slot '{when}'" in m for m in messages)
    assert any("slot 'eta' is not used" in m for m in messages)


def test_it_rejects_rules_naming_unknown_categories():
    text = MINIMAL + "  - {id: cats, categories: [refunds]}\n"
    assert any("unknown category 'refunds'" in p.message for p in problems_of(text))


@pytest.mark.parametrize("sla, expected", [
    ("{first_response: -1, next_response: 8, resolution: 24}", "not a sane target"),
    ("{first_response: 4, next_response: 8, resolution: 99999}", "not a sane target"),
    ("{first_response: 48, next_response: 8, resolution: 24}", "must not be longer"),
    ("{first_response: soon, next_response: 8, resolution: 24}", "expected hours"),
])
def test_it_rejects_bad_sla_targets(sla, expected):
    text = MINIMAL.replace("{normal: {first_response: 4, next_response: 8, resolution: 24}}", f"{{normal: {sla}}}")
    assert any(expected in p.message for p in problems_of(text))


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(\d*)*x", r"(a|aa)+b" * 40, r"(a)\1", r"\d*", r"[unclosed"])
def test_it_rejects_unsafe_or_invalid_regexes(pattern):
    assert regex_problem(pattern) is not None


def test_it_accepts_plain_identifier_patterns():
    assert regex_problem(r"NW-\d{6}") is None
    assert regex_problem(r"INV-\d{5,8}") is None


def test_it_rejects_catastrophic_identifier_in_a_playbook():
    text = MINIMAL.replace(r"'TS-\d{4}'", r"'(a+)+$'")
    assert any("nested quantifiers" in p.message for p in problems_of(text))


def test_it_refuses_yaml_aliases_before_expanding_them():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b]\n"
    problems = problems_of(bomb)
    assert "anchors (&a) are not allowed" in problems[0].message


@pytest.mark.parametrize("text", ["- just\n- a list\n", "plain text", "", "{unclosed: [", "\x00\x01"])
def test_it_rejects_non_mapping_or_broken_roots(text):
    assert problems_of(text)


def test_it_rejects_files_over_the_size_limit():
    assert "larger than" in problems_of(MINIMAL + "#" * 600_000)[0].message


def test_it_forbids_routine_complaints():
    text = MINIMAL.replace("handling: review", "handling: routine")
    assert any("never be routine" in p.message for p in problems_of(text))


def test_it_requires_qualification_fields_for_qualify_categories():
    text = MINIMAL.replace("handling: routine", "handling: qualify")
    assert any("qualification" in p.message for p in problems_of(text))


def test_it_reads_the_declared_reply_languages_and_refuses_ones_the_guardrails_cannot_check():
    assert load_playbook(MINIMAL, source="test.yaml").business.languages == ("en",)
    declared = MINIMAL.replace("region: US}", "region: US, languages: [EN, de, en]}")
    assert load_playbook(declared, source="test.yaml").business.languages == ("en", "de")
    [problem] = problems_of(MINIMAL.replace("region: US}", "region: US, languages: [en, pl]}"))
    assert problem.path == "business.languages[1]" and "no guardrail phrases for language 'pl'" in problem.message
