import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from lbsup.assist.playbook import PlaybookError, load_playbook
from lbsup.demo import PLAYBOOK_DIR as DEMO

DENTAL = (DEMO / "bright-smile.yaml").read_text()


def with_top_level(extra):
    return DENTAL.replace("escalation_owner: manager", f"{extra}\nescalation_owner: manager", 1)


def test_it_reads_holidays_and_a_nudge_template():
    playbook = load_playbook(with_top_level('holidays: [2025-12-25, "2026-01-01"]\nnudge: "{greeting} Any news? {sign_off}"'))
    assert playbook.holidays == (dt.date(2025, 12, 25), dt.date(2026, 1, 1))
    assert playbook.nudge.startswith("{greeting}")


@pytest.mark.parametrize("extra, message", [
    ("holidays: [2025-02-30]", "not a date"),
    ("holidays: [2025-12-25, 2025-12-25]", "duplicate holiday"),
    ('nudge: "Hi {order_total}"', "unknown slot"),
])
def test_it_rejects_bad_holidays_and_nudges(extra, message):
    with pytest.raises(PlaybookError, match=message):
        load_playbook(with_top_level(extra))


@pytest.mark.parametrize("target", ["-4", "0", "99999"])
def test_it_rejects_negative_or_absurd_sla_targets_in_playbook_check(tmp_path, target):
    bad = DENTAL.replace("normal: {first_response: 4, next_response: 8, resolution: 16}",
                         f"normal: {{first_response: {target}, next_response: 8, resolution: 16}}", 1)
    assert bad != DENTAL
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises((CommandError, SystemExit)):
        call_command("playbook", "check", str(path))
