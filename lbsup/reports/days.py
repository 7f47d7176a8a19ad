"""Calendar days in a workspace's time zone. A day is local midnight to local midnight,
so a day when the clocks change lasts 23 or 25 hours: never add 24 hours to a midnight."""

import datetime
from zoneinfo import ZoneInfo


def day_bounds(tz: ZoneInfo, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the local day, as aware UTC datetimes."""
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
    return start.astimezone(datetime.timezone.utc), end.astimezone(datetime.timezone.utc)


def local_date(tz: ZoneInfo, moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(tz).date()


def parse_day(text: str) -> datetime.date:
    """YYYY-MM-DD, or ValueError with a message a person can act on."""
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD") from None
