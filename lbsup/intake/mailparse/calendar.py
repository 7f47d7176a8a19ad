"""A text/calendar part in one line, so an invitation reads as one in the ticket."""

from __future__ import annotations

import re

from .text import clean_header


def summarize_calendar(ics: str) -> str:
    """One line for a text/calendar part: what, when, where, who invites."""
    unfolded = re.sub(r"\r?\n[ \t]", "", ics)
    fields: dict[str, str] = {}
    for line in unfolded.splitlines():
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.split(";")[0].strip().upper()
        if key in {"METHOD", "SUMMARY", "DTSTART", "DTEND", "LOCATION", "ORGANIZER"} and key not in fields:
            fields[key] = value.replace("\\,", ",").replace("\\n", " ").replace("\\;", ";").strip()
    method = fields.get("METHOD", "").upper()
    label = {"REQUEST": "Invitation", "CANCEL": "Cancelled", "REPLY": "Invitation reply"}.get(method, "Calendar event")
    parts = [f"{label}: {fields.get('SUMMARY', '(no title)')}"]
    if "DTSTART" in fields:
        parts.append(f"starts {_ics_time(fields['DTSTART'])}")
    if "DTEND" in fields:
        parts.append(f"ends {_ics_time(fields['DTEND'])}")
    if fields.get("LOCATION"):
        parts.append(f"at {fields['LOCATION']}")
    if fields.get("ORGANIZER"):
        parts.append(f"organised by {fields['ORGANIZER'].removeprefix('mailto:').removeprefix('MAILTO:')}")
    return clean_header(", ".join(parts))


def _ics_time(value: str) -> str:
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z)?)?", value.strip())
    if not match:
        return value
    year, month, day, hour, minute, _second, utc = match.groups()
    when = f"{year}-{month}-{day}"
    if hour:
        when += f" {hour}:{minute}{' UTC' if utc else ''}"
    return when
