"""Single-value headers: Message-IDs, dates, language."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from .text import clean_header

_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")


def normalize_message_id(value: str | None) -> str | None:
    """``<Local@Example.COM>`` -> ``Local@example.com``; None when there is no usable id."""
    if not value:
        return None
    value = clean_header(value)
    bracketed = _BRACKETED_ID.search(value)
    candidate = bracketed.group(1) if bracketed else value.strip().strip("<>")
    candidate = re.sub(r"\s+", "", candidate)
    if not candidate or len(candidate) > 995:
        return None
    local, at, domain = candidate.rpartition("@")
    if not at or not local or not domain:
        return candidate if bracketed else None
    return f"{local}@{domain.lower()}"


def message_id_list(value: str | None) -> list[str]:
    if not value:
        return []
    value = clean_header(value)
    ids = _BRACKETED_ID.findall(value) or [token for token in re.split(r"[\s,]+", value) if "@" in token]
    normalized = [normalize_message_id(f"<{item}>") for item in ids]
    return list(dict.fromkeys(item for item in normalized if item))


def parse_date(value: str | None, problems: list[str]) -> datetime | None:
    if not value:
        return None
    value = clean_header(value)
    parsed: datetime | None = None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            from dateutil import parser as date_parser

            with warnings.catch_warnings():
                # unknown zone names ("FD") just leave the time naive; treated as UTC below
                warnings.simplefilter("ignore")
                parsed = date_parser.parse(value, fuzzy=True)
        except Exception:  # noqa: BLE001 - dateutil raises several types on garbage
            parsed = None
    if parsed is None or not (1970 <= parsed.year <= 2200):
        problems.append(f"unreadable Date header {value[:80]!r}")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def language(value: str | None) -> str | None:
    if not value:
        return None
    first = clean_header(value).split(",")[0].strip().lower()
    return first[:35] if re.fullmatch(r"[a-z]{1,8}(-[a-z0-9]{1,8})*", first) else None
