"""Details a representative would copy out of a message, each with the span it came from.

Dates resolve against the message's arrival time in the workspace's time zone and are
normalized to ISO 8601: a day ("2025-03-14"), a moment ("2025-03-14T14:30:00-07:00")
or an interval ("start/end") for "tomorrow morning" or "after 3pm".  Without a year,
a month-and-day date means its nearest occurrence; a weekday or "the 14th" means the
next one, since customers mostly ask about days to come.  Words of the past just before a date
("born", "date of birth", "was charged", "visited") make it the latest occurrence that is not
in the future; a written year, 19xx included, is always kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers

from lbsup.assist.playbook import Playbook
from lbsup.assist.results import Detail

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?![\w-])")
MONEY_SYMBOL = {"$": "USD", "€": "EUR", "£": "GBP"}
MONEY_WORD = {"usd": "USD", "dollars": "USD", "dollar": "USD", "bucks": "USD", "eur": "EUR", "euro": "EUR",
              "euros": "EUR", "gbp": "GBP", "pounds": "GBP", "cad": "CAD"}
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,9}(?:\.\d{1,2})?"
MONEY = re.compile(
    rf"(?P<sym>[$€£])\s?(?P<a1>{_AMOUNT})\b|\b(?P<code1>USD|EUR|GBP|CAD)\s?(?P<a2>{_AMOUNT})\b|"
    rf"\b(?<![\d,])(?P<a3>{_AMOUNT})\s?(?P<word>usd|dollars?|bucks|eur|euros?|gbp|pounds|cad)\b", re.IGNORECASE)
ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z0-9]+\s+){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Highway|Hwy)\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|#)\.?\s*[\w-]{1,6})?"
    r"(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2})?(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?")
NAME_WORD = r"[A-Z][a-z'’-]+(?:\s[A-Z][a-z'’-]+){0,2}"
NAME_INTRO = re.compile(rf"\b(?:[Mm]y name is|[Tt]his is|I am|I'm)\s+(?P<name>{NAME_WORD})")
# [ \t]*, not \s*: under MULTILINE a \s* at a line start runs over every following newline from
# every start position, so a mail of blank lines cost time growing with its length squared.
SIGN_OFF = re.compile(r"^[ \t]*(?:thanks|thank you|many thanks|best|best regards|regards|kind regards|sincerely|"
                      r"cheers|warm regards|thx|respectfully|all the best)[,.!]?[ \t]*$", re.IGNORECASE | re.MULTILINE)
SIGNATURE_NAME = re.compile(rf"^\s*(?:-\s*)?(?P<name>{NAME_WORD})\s*$")
NOT_NAMES = frozenset({"Thanks", "Sent", "Regards", "Hi", "Hello", "Best", "Cheers", "Sincerely", "Please", "Help", "Order"})

MONTHS = {m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                           "september", "october", "november", "december"])}
MONTHS.update({m[:3]: n for m, n in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
WEEKDAYS.update({"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6})
PARTS_OF_DAY = {"morning": (time(8), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), time(21)),
                "tonight": (time(17), time(23, 59)), "night": (time(19), time(23, 59)), "lunchtime": (time(12), time(13))}

# Words of the past right before a date: a birth date, a visit, a charge is never a day to come.
# Only words that cannot lead to a day to come ("was" can: "was moved to Friday").
PAST_CUE = re.compile(r"\b(?:born|birth|dob|d\.o\.b|birthdate|paid|charged|billed|visited|came in|ordered|bought|"
                      r"received|since|happened|took place)\b[^.!?\n]{0,30}$", re.IGNORECASE)
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
DATE = re.compile(
    rf"\b(?:(?P<relative>today|tomorrow|tonight|yesterday|day after tomorrow)"
    rf"|(?:(?P<which>next|this|coming|last)\s+)?{_WEEKDAY}(?:,?\s+(?:the\s+)?(?P<wday_day>[0-3]?\d)(?:st|nd|rd|th)?)?"
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+(?P<year>(?:19|20)\d\d))?"
    rf"|(?P<day2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?:,?\s+(?P<year2>(?:19|20)\d\d))?"
    rf"|(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?:/(?P<y>(?:19|20)?\d\d))?"
    rf"|the\s+(?P<nth>[0-3]?\d)(?:st|nd|rd|th))\b", re.IGNORECASE)
TIME = re.compile(
    r"\b(?:(?P<qual>after|before|around|at|by|from)\s+)?(?:(?P<h>1[0-2]|0?[1-9])(?::(?P<min>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)"
    r"|(?P<h24>[01]?\d|2[0-3]):(?P<min24>[0-5]\d)|(?P<word>noon|midday|midnight))"
    r"|\b(?:in the\s+)?(?P<part>morning|afternoon|evening|night|lunchtime)\b", re.IGNORECASE)


def extract_details(subject: str, body: str, playbook: Playbook, received_at: datetime,
                    sender_name: str = "") -> tuple[Detail, ...]:
    found: list[Detail] = []
    if sender_name.strip():
        name = sender_name.strip()[:100]
        found.append(Detail("person_name", name, _title(name), (0, len(name)), "sender"))
    for source, text in (("subject", subject), ("body", body)):
        if not text:
            continue
        found.extend(extract_names(text, source))
        found.extend(extract_emails(text, source))
        found.extend(extract_phones(text, source, playbook.business.region))
        found.extend(extract_identifiers(text, source, playbook))
        found.extend(extract_money(text, source))
        found.extend(extract_addresses(text, source))
        found.extend(extract_dates(text, source, received_at, playbook.business.tz))
    return tuple(_dedupe(found))


def _dedupe(details: list[Detail]) -> list[Detail]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for detail in details:
        key = (detail.kind, detail.normalized)
        if key not in seen:
            seen.add(key)
            kept.append(detail)
    return kept


def _title(name: str) -> str:
    return " ".join(part[:1].upper() + part[1:] for part in name.split())


def extract_names(text: str, source: str) -> list[Detail]:
    found = []
    for match in NAME_INTRO.finditer(text):
        name = match.group("name")
        first = name.split()[0]
        if first in NOT_NAMES or (match.group(0).lower().startswith(("i am", "i'm")) and len(name.split()) < 2):
            continue
        found.append(Detail("person_name", name, _title(name), match.span("name"), source))
    for sign_off in SIGN_OFF.finditer(text):
        rest = text[sign_off.end():].lstrip()
        offset = len(text) - len(rest)
        line = rest.split("\n", 1)[0]
        match = SIGNATURE_NAME.match(line)
        if match and match.group("name").split()[0] not in NOT_NAMES:
            start = offset + match.start("name")
            found.append(Detail("person_name", match.group("name"), _title(match.group("name")),
                                (start, start + len(match.group("name"))), source))
    return found


def extract_emails(text: str, source: str) -> list[Detail]:
    return [Detail("email", m.group(0), m.group(0).lower(), m.span(), source) for m in EMAIL.finditer(text)]


def extract_phones(text: str, source: str, region: str) -> list[Detail]:
    found = []
    try:
        matches = list(phonenumbers.PhoneNumberMatcher(text, region or "US", leniency=phonenumbers.Leniency.VALID,
                                                       max_tries=50))
    except Exception:  # the library is defensive, but a phone match must never break triage
        return found
    for match in matches:
        normalized = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append(Detail("phone", match.raw_string, normalized, (match.start, match.end), source))
    return found


def extract_identifiers(text: str, source: str, playbook: Playbook) -> list[Detail]:
    found = []
    for identifier in playbook.identifiers:
        for match in identifier.compiled.finditer(text):
            found.append(Detail(identifier.kind, match.group(0), match.group(0).upper(), match.span(), source))
    return found


def extract_money(text: str, source: str) -> list[Detail]:
    found = []
    for match in MONEY.finditer(text):
        amount = match.group("a1") or match.group("a2") or match.group("a3")
        currency = (MONEY_SYMBOL.get(match.group("sym") or "") or (match.group("code1") or "").upper()
                    or MONEY_WORD.get((match.group("word") or "").lower(), "USD"))
        value = float(amount.replace(",", ""))
        found.append(Detail("money", match.group(0), f"{value:.2f} {currency}", match.span(), source))
    return found


def money_amounts(details: tuple[Detail, ...]) -> list[float]:
    return [float(d.normalized.split()[0]) for d in details if d.kind == "money"]


def extract_addresses(text: str, source: str) -> list[Detail]:
    return [Detail("address", m.group(0), " ".join(m.group(0).split()), m.span(), source) for m in ADDRESS.finditer(text)]


def extract_dates(text: str, source: str, received_at: datetime, tz: ZoneInfo) -> list[Detail]:
    now = received_at.astimezone(tz)
    today = now.date()
    dates = [(m.span(), _resolve_date(m, today, past=bool(PAST_CUE.search(text, max(0, m.start() - 40), m.start()))))
             for m in DATE.finditer(text)]
    dates = [(span, day) for span, day in dates if day is not None]
    times = [m for m in TIME.finditer(text) if not _inside_any(m.span(), [s for s, _ in dates])]
    used_times: set[int] = set()
    found = []
    for (start, end), day in dates:
        time_match = next((t for t in times if 0 <= t.start() - end <= 12 and id(t) not in used_times), None)
        if time_match is None:
            time_match = next((t for t in times if 0 <= start - t.end() <= 4 and id(t) not in used_times), None)
        if time_match is not None:
            used_times.add(id(time_match))
            span = (min(start, time_match.start()), max(end, time_match.end()))
            found.append(_detail(text, span, source, _moment(day, time_match, tz, text[start:end])))
        else:
            part = PARTS_OF_DAY.get(text[start:end].lower()) if text[start:end].lower() == "tonight" else None
            normalized = _interval(day, part, tz) if part else day.isoformat()
            found.append(_detail(text, (start, end), source, normalized))
    for time_match in times:
        if id(time_match) in used_times or not _is_clock(time_match):
            continue
        found.append(_detail(text, time_match.span(), source, _moment(today, time_match, tz, ""), kind="time"))
    return found


def _detail(text: str, span: tuple[int, int], source: str, normalized: str, kind: str = "datetime") -> Detail:
    if kind == "datetime" and "T" not in normalized:
        kind = "date"
    return Detail(kind, text[span[0]:span[1]], normalized, span, source)


def _inside_any(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in spans)


def _is_clock(match: re.Match[str]) -> bool:
    return bool(match.group("h") or match.group("h24") or match.group("word"))


def _resolve_date(match: re.Match[str], today: date, *, past: bool = False) -> date | None:
    groups = match.groupdict()
    try:
        if groups["relative"]:
            offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1, "day after tomorrow": 2}
            return today + timedelta(days=offsets[groups["relative"].lower()])
        if groups["weekday"]:
            target = WEEKDAYS[groups["weekday"].lower()]
            which = (groups["which"] or "").lower()
            delta = (target - today.weekday()) % 7
            if which == "last" or (past and not which):
                return today - timedelta(days=(today.weekday() - target) % 7 or (7 if which else 0))
            if which == "next" and delta == 0:
                delta = 7
            return today + timedelta(days=delta)
        if groups["month"] or groups["month2"]:
            month = MONTHS[_month_key(groups["month"] or groups["month2"])]
            day = int(groups["day"] or groups["day2"])
            year = groups["year"] or groups["year2"]
            return date(int(year), month, day) if year else _nearest(today, month, day, past=past)
        if groups["m"]:
            month, day, year = int(groups["m"]), int(groups["d"]), groups["y"]
            if year:
                return date(_full_year(year, today), month, day)
            return _nearest(today, month, day, past=past)
        if groups["nth"]:
            day = int(groups["nth"])
            candidate = today.replace(day=1)
            for _ in range(3):
                try:
                    result = candidate.replace(day=day)
                    if result >= today:
                        return result
                except ValueError:
                    pass
                candidate = (candidate + timedelta(days=32)).replace(day=1)
    except (ValueError, KeyError):
        return None
    return None


def _month_key(word: str) -> str:
    word = word.lower().rstrip(".")
    return word if word in MONTHS else word[:3]


def _nearest(today: date, month: int, day: int, *, past: bool = False) -> date:
    candidates = []
    # In the past: this year's or an earlier one's (eight years back reach a 29 February).
    for year in range(today.year, today.year - 8, -1) if past else (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if past:
        candidates = [d for d in candidates if d <= today][:1]
    if not candidates:
        raise ValueError("no such day")
    return min(candidates, key=lambda d: abs((d - today).days))


def _full_year(year: str, today: date) -> int:
    """A two-digit year is the latest one not more than ten years ahead: "85" is 1985, "27" 2027."""
    if len(year) == 4:
        return int(year)
    century = 2000 if 2000 + int(year) <= today.year + 10 else 1900
    return century + int(year)


def _clock(match: re.Match[str]) -> time | None:
    if match.group("word"):
        return time(0) if match.group("word").lower() == "midnight" else time(12)
    if match.group("h24"):
        hour = int(match.group("h24"))
        # "2:30" with no am/pm in a message to a business means the afternoon.
        if 1 <= hour <= 7 and not match.group("h24").startswith("0"):
            hour += 12
        return time(hour, int(match.group("min24")))
    if match.group("h"):
        hour = int(match.group("h")) % 12
        if match.group("ampm").lower().startswith("p"):
            hour += 12
        return time(hour, int(match.group("min") or 0))
    return None


def _moment(day: date, match: re.Match[str], tz: ZoneInfo, date_text: str) -> str:
    clock = _clock(match)
    if clock is None:
        return _interval(day, PARTS_OF_DAY[match.group("part").lower()], tz)
    qualifier = (match.group("qual") or "").lower()
    moment = datetime.combine(day, clock, tzinfo=tz)
    if qualifier in ("after", "from"):
        return f"{moment.isoformat()}/{datetime.combine(day, time(23, 59), tzinfo=tz).isoformat()}"
    if qualifier in ("before", "by"):
        return f"{datetime.combine(day, time(0), tzinfo=tz).isoformat()}/{moment.isoformat()}"
    return moment.isoformat()


def _interval(day: date, part: tuple[time, time], tz: ZoneInfo) -> str:
    start, end = part
    return f"{datetime.combine(day, start, tzinfo=tz).isoformat()}/{datetime.combine(day, end, tzinfo=tz).isoformat()}"
