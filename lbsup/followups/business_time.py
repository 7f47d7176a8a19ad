"""Business-hours arithmetic in a workspace's time zone (plain Python, no Django).

Opening windows are built from local wall-clock times on each local date and only then
converted to absolute instants, so a DST change moves the window with the clock on the
wall: 8:00–17:00 stays 8:00–17:00 local, and an SLA of "4 business hours" is 4 real hours
of opening time on either side of the change.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS: dict[int, tuple[dt.time, dt.time]] = {day: (dt.time(9), dt.time(17)) for day in range(5)}
# A clock that never meets an opening window (a playbook with no hours at all) must stop somewhere.
MAX_DAYS_SCANNED = 3 * 366

_RANGE = re.compile(r"(?P<start>\d{1,2})(?::(?P<start_min>\d{2}))?\s*[-–]\s*(?P<end>\d{1,2})(?::(?P<end_min>\d{2}))?")


class BusinessHoursError(ValueError):
    pass


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    hours: dict[int, tuple[dt.time, dt.time]]  # weekday (Mon=0) -> local opening, closing
    holidays: frozenset[dt.date] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def windows(self, start: dt.datetime, limit_days: int = MAX_DAYS_SCANNED):
        """Opening windows (aware UTC start, end) from the local day of `start` on."""
        tz = self.tz
        day = start.astimezone(tz).date()
        for _ in range(limit_days):
            opening = self.hours.get(day.weekday())
            if opening and day not in self.holidays:
                begin = dt.datetime.combine(day, opening[0], tzinfo=tz).astimezone(dt.timezone.utc)
                end = dt.datetime.combine(day, opening[1], tzinfo=tz).astimezone(dt.timezone.utc)
                if end > begin:
                    yield begin, end
            day += dt.timedelta(days=1)

    def add(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant `hours` of opening time after `start`."""
        if hours < 0:
            raise BusinessHoursError("business hours to add must not be negative")
        remaining = dt.timedelta(hours=hours)
        cursor = start.astimezone(dt.timezone.utc)
        for begin, end in self.windows(start):
            if end <= cursor:
                continue
            begin = max(begin, cursor)
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise BusinessHoursError(f"no opening hours within {MAX_DAYS_SCANNED} days of {start.isoformat()}")

    def between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Opening hours from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = dt.timedelta()
        for begin, close in self.windows(start):
            if begin >= end:
                break
            overlap = min(close, end) - max(begin, start)
            if overlap > dt.timedelta():
                total += overlap
        return total.total_seconds() / 3600

    def is_open(self, at: dt.datetime) -> bool:
        return self.between(at, at + dt.timedelta(seconds=1)) > 0


def hours_from_mapping(mapping: dict) -> dict[int, tuple[dt.time, dt.time]]:
    """Workspace.business_hours: {"mon": ["08:00", "17:00"], ...}; a missing day is closed."""
    hours = {}
    for key, value in (mapping or {}).items():
        for day in _days(str(key)):
            if not value or value == "closed":
                continue
            if isinstance(value, str):
                parsed = _parse_range(value)
            elif isinstance(value, (list, tuple)) and len(value) == 2:
                parsed = (_time(str(value[0])), _time(str(value[1])))
            else:
                raise BusinessHoursError(f"{key}: expected [opening, closing], got {value!r}")
            hours[day] = parsed
    return hours


def hours_from_text(text: str) -> dict[int, tuple[dt.time, dt.time]]:
    """The playbook's `hours` as loaded: "mon-thu: 8:00-17:00; fri: 8:00-14:00; sat-sun: closed"."""
    hours = {}
    for part in (text or "").split(";"):
        if ":" not in part:
            continue
        days, _, value = part.partition(":")
        try:
            day_numbers = _days(days.strip())
        except BusinessHoursError:
            continue  # free text like "Mon–Fri 8:00–17:00" without a day key: not machine-readable
        value = value.strip()
        if value.lower() == "closed" or not value:
            continue
        for day in day_numbers:
            hours[day] = _parse_range(value)
    return hours


_DAY_KEY = re.compile(r"^[a-z]{3,9}(?:\s*-\s*[a-z]{3,9})?$")


def _days(key: str) -> list[int]:
    key = key.strip().lower()[:20]
    if not _DAY_KEY.match(key):
        raise BusinessHoursError(f"not a day or day range: {key!r}")
    if "-" in key:
        first, _, last = key.partition("-")
        start, end = _day(first), _day(last)
        return [d % 7 for d in range(start, end + 1 if end >= start else end + 8)]
    return [_day(key)]


def _day(name: str) -> int:
    name = name.strip()[:3]
    if name not in DAYS:
        raise BusinessHoursError(f"unknown day {name!r}")
    return DAYS.index(name)


def _parse_range(value: str) -> tuple[dt.time, dt.time]:
    match = _RANGE.search(value)
    if not match:
        raise BusinessHoursError(f"expected opening hours like 8:00-17:00, got {value!r}")
    return (_hm(match["start"], match["start_min"]), _hm(match["end"], match["end_min"]))


def _time(value: str) -> dt.time:
    hour, _, minute = value.strip().partition(":")
    return _hm(hour, minute or "0")


def _hm(hour: str, minute: str | None) -> dt.time:
    try:
        h, m = int(hour), int(minute or 0)
        if h == 24 and m == 0:
            return dt.time(23, 59, 59)
        return dt.time(h, m)
    except ValueError:
        raise BusinessHoursError(f"not a time of day: {hour}:{minute or '00'}") from None
