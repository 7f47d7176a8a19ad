from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lbsup.assist.details import extract_dates, extract_details
from lbsup.assist.playbook import load_playbook

MINIMAL = load_playbook((Path(__file__).parent / "fixtures" / "minimal.yaml").read_text())
CHICAGO = ZoneInfo("America/Chicago")
# Wednesday 2025-03-12, 10:00 in Chicago.
RECEIVED = datetime(2025, 3, 12, 15, 0, tzinfo=ZoneInfo("UTC"))


def kinds(details, kind):
    return [d for d in details if d.kind == kind]


@pytest.mark.parametrize("text, normalized", [
    ("Can I come next Tuesday after 3pm?", "2025-03-18T15:00:00-05:00/2025-03-18T23:59:00-05:00"),
    ("what about the 14th", "2025-03-14"),
    ("tomorrow morning works", "2025-03-13T08:00:00-05:00/2025-03-13T12:00:00-05:00"),
    ("I was charged on 3/10", "2025-03-10"),
    ("I was charged on 3/14", "2024-03-14"),  # charged: in the past, even if the nearest 3/14 is ahead
    ("March 14 at 2:30 please", "2025-03-14T14:30:00-05:00"),
    ("last Friday", "2025-03-07"),
])
def test_it_resolves_dates_against_the_message_time_and_workspace_zone(text, normalized):
    found = extract_dates(text, "body", RECEIVED, CHICAGO)
    assert [d.normalized for d in found] == [normalized]
    start, end = found[0].span
    assert text[start:end] == found[0].value


def test_it_extracts_every_kind_with_spans_from_its_source():
    body = ("Hi, my name is Jane Doe. Order TS-1234 never came. Call me at (312) 555-0199 or jane@example.com. "
            "I paid $1,250.50. Ship to 1200 Oak Street, Apt 4B, Chicago, IL 60607.\n\nThanks,\nJane Doe")
    details = extract_details("Order TS-1234", body, MINIMAL, RECEIVED, "J. Doe")
    assert [d.normalized for d in kinds(details, "order_number")] == ["TS-1234"]
    assert [d.source for d in details if d.kind == "order_number"] == ["subject"]
    assert kinds(details, "phone")[0].normalized == "+13125550199"
    assert kinds(details, "email")[0].normalized == "jane@example.com"
    assert kinds(details, "money")[0].normalized == "1250.50 USD"
    assert kinds(details, "address")[0].value.startswith("1200 Oak Street, Apt 4B")
    assert {d.normalized for d in kinds(details, "person_name")} == {"J. Doe", "Jane Doe"}
    for detail in details:
        if detail.source == "body":
            assert body[detail.span[0]:detail.span[1]] == detail.value


def test_it_reads_names_from_signatures():
    details = extract_details("", "Where is my package?\n\nBest regards,\nTom Becker", MINIMAL, RECEIVED)
    assert [d.normalized for d in kinds(details, "person_name")] == ["Tom Becker"]


def test_it_ignores_impossible_dates_and_junk():
    assert extract_dates("on 2/31 and 13/45", "body", RECEIVED, CHICAGO) == []
    assert extract_details("", "\x00\x01 ��� $$$ 99999999999999999", MINIMAL, RECEIVED) is not None


@pytest.mark.parametrize("text, normalized", [
    ("Patient DOB: 03/15/1985", "1985-03-15"),
    ("born 3/15/85", "1985-03-15"),
    ("Date of birth: March 3, 1985", "1985-03-03"),
    ("d.o.b. 7/4/02", "2002-07-04"),
    ("I was charged on Nov 3 for the crown", "2024-11-03"),  # received 2025-03-12: last November, not next
    ("We visited on 12/20", "2024-12-20"),
    ("I paid on Friday", "2025-03-07"),
    ("Can I come in on Nov 3?", "2024-11-03"),  # no past words: the nearest, as before
    ("My appointment was moved to March 20", "2025-03-20"),  # "was" alone says nothing of the date
    ("appointment 3/15/27", "2027-03-15"),
])
def test_it_never_moves_a_birth_date_or_a_past_date_into_the_future(text, normalized):
    assert [d.normalized for d in extract_dates(text, "body", RECEIVED, CHICAGO)] == [normalized]
