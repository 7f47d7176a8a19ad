import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from lbsup.followups.business_time import (
    DEFAULT_HOURS,
    BusinessCalendar,
    BusinessHoursError,
    hours_from_mapping,
    hours_from_text,
)

LA = ZoneInfo("America/Los_Angeles")
UTC = dt.timezone.utc
WEEKDAYS_9_TO_5 = BusinessCalendar("America/Los_Angeles", DEFAULT_HOURS)


def local(*args):
    return dt.datetime(*args, tzinfo=LA)


def test_it_skips_the_weekend_across_the_march_dst_change():
    # Friday 16:00 PST + 2 business hours: 1 hour on Friday, 1 on Monday (now PDT, UTC-7).
    due = WEEKDAYS_9_TO_5.add(local(2025, 3, 7, 16), 2)
    assert due.astimezone(LA) == local(2025, 3, 10, 10)
    assert due == dt.datetime(2025, 3, 10, 17, tzinfo=UTC)


def test_it_skips_the_weekend_across_the_november_dst_change():
    due = WEEKDAYS_9_TO_5.add(local(2025, 10, 31, 16), 2)
    assert due.astimezone(LA) == local(2025, 11, 3, 10)
    assert due == dt.datetime(2025, 11, 3, 18, tzinfo=UTC)


def test_it_counts_real_hours_on_the_day_the_clock_springs_forward():
    always_open = BusinessCalendar("America/Los_Angeles", {d: (dt.time(0), dt.time(23, 59, 59)) for d in range(7)})
    # 2025-03-09 02:00 does not exist in Los Angeles: midnight to noon is 11 hours.
    assert always_open.between(local(2025, 3, 9, 0), local(2025, 3, 9, 12)) == pytest.approx(11)
    # ...and on 2025-11-02 01:00 happens twice: midnight to noon is 13 hours.
    assert always_open.between(local(2025, 11, 2, 0), local(2025, 11, 2, 12)) == pytest.approx(13)


def test_it_does_not_count_a_holiday():
    with_holiday = BusinessCalendar("America/Los_Angeles", DEFAULT_HOURS, frozenset({dt.date(2025, 3, 10)}))
    assert with_holiday.add(local(2025, 3, 7, 16), 2).astimezone(LA) == local(2025, 3, 11, 10)
    assert with_holiday.between(local(2025, 3, 7, 16), local(2025, 3, 11, 10)) == pytest.approx(2)


def test_it_starts_counting_at_the_next_opening_when_closed():
    assert WEEKDAYS_9_TO_5.add(local(2025, 3, 8, 11), 1).astimezone(LA) == local(2025, 3, 10, 10)
    assert WEEKDAYS_9_TO_5.between(local(2025, 3, 8, 8), local(2025, 3, 9, 20)) == 0


def test_it_refuses_negative_hours_and_a_calendar_that_never_opens():
    with pytest.raises(BusinessHoursError):
        WEEKDAYS_9_TO_5.add(local(2025, 3, 7, 16), -1)
    with pytest.raises(BusinessHoursError, match="no opening hours"):
        BusinessCalendar("America/Los_Angeles", {}).add(local(2025, 3, 7, 16), 1)


def test_it_reads_workspace_hours_and_playbook_hours():
    assert hours_from_mapping({"mon": ["08:00", "17:00"], "fri": ["08:00", "14:00"]}) == {
        0: (dt.time(8), dt.time(17)), 4: (dt.time(8), dt.time(14))}
    parsed = hours_from_text("mon-thu: 8:00-17:00; fri: 8:00-14:00; sat-sun: closed")
    assert parsed == {0: (dt.time(8), dt.time(17)), 1: (dt.time(8), dt.time(17)), 2: (dt.time(8), dt.time(17)),
                      3: (dt.time(8), dt.time(17)), 4: (dt.time(8), dt.time(14))}
    assert hours_from_text("Mon–Fri 8:00–17:00") == {}
    with pytest.raises(BusinessHoursError):
        hours_from_mapping({"mon": ["eight", "five"]})
