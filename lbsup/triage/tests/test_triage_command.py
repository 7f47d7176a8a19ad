import json

from django.core.management import call_command

STABLE_FIELDS = {"category", "confidence", "alternatives", "complaint", "frustration", "urgency", "language",
                 "details", "escalate", "escalation_reasons", "team", "next_steps", "draft", "summary"}


def test_it_prints_a_json_triage_with_a_draft(dental_playbook, tmp_path, capsys):
    path = tmp_path / "message.txt"
    path.write_text("Hi! Can I book a cleaning next Tuesday after 3pm? My number is (415) 555-0188. Thanks, Ana")
    call_command("triage", "--workspace", "bright-smile", "--json", str(path))
    result = json.loads(capsys.readouterr().out)
    assert STABLE_FIELDS <= set(result)
    assert result["category"] == "appointment"
    assert {"reply_id", "text", "missing", "checks"} <= set(result["draft"])
    assert any(d["kind"] == "phone" for d in result["details"])


def test_it_reads_an_eml_file(dental_playbook, capsys):
    from lbsup.intake.tests.eml_fixtures import EML_DIR

    call_command("triage", "--workspace", "bright-smile", str(EML_DIR / "gmail_reply.eml"))
    out = capsys.readouterr().out
    assert out.startswith("category:") and "escalate:" in out


def test_it_triages_json_lines_one_result_per_line(dental_playbook, tmp_path, capsys):
    lines = [{"subject": "Invoice", "text": "why was i billed $189.50 twice??", "from": "a@b.example"},
             {"subject": "", "text": "my face is swollen and it hurts, can you see me today",
              "date": "2026-03-03T09:00:00-08:00"},
             {"text": ""}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    call_command("triage", "--workspace", "bright-smile", "--jsonl", str(path))
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(results) == 3
    assert results[0]["category"] == "billing"
    assert results[1]["urgency"] in ("high", "urgent")
    assert results[2]["category"] == "unsure"


def test_it_reports_a_bad_json_line_clearly(dental_playbook, tmp_path):
    import pytest
    from django.core.management.base import CommandError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(CommandError, match="line 2"):
        call_command("triage", "--workspace", "bright-smile", "--jsonl", str(path))
