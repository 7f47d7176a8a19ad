"""Marks the evidence of a triage inside the message text, for the ticket page."""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe


def evidence_ranges(text, details=(), words=()):
    """(start, end, kind, title) ranges: detail spans as recorded (checked against the text,
    found again if the text moved) and every occurrence of an evidence word."""
    ranges = []
    for detail in details:
        if detail.get("source") != "body":
            continue
        start, end = detail["span"]
        if text[start:end] != detail["value"]:
            found = text.find(detail["value"])
            if found < 0:
                continue
            start, end = found, found + len(detail["value"])
        ranges.append((start, end, "detail", f"{detail['kind']}: {detail['normalized']}"))
    for word, title in words:
        if len(word) < 2:
            continue
        for match in re.finditer(re.escape(word), text, flags=re.IGNORECASE):
            ranges.append((match.start(), match.end(), "evidence", title))
    return ranges


def highlight(text, ranges):
    """HTML-escaped text with <mark> around non-overlapping ranges (earliest, then longest, wins)."""
    out, position = [], 0
    for start, end, kind, title in sorted(ranges, key=lambda r: (r[0], -(r[1] - r[0]))):
        if start < position:
            continue
        out.append(escape(text[position:start]))
        out.append(f'<mark class="{kind}" title="{escape(title)}">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return mark_safe("".join(out).replace("\n", "<br>"))


def evidence_words(result):
    """Words that fired an escalation rule or signal, with the rule as the tooltip."""
    words = []
    for reason in result.get("escalation_reasons", []):
        words += [(w, f"escalation: {reason['rule']}") for w in reason.get("evidence", []) if not _is_score(w)]
    for signal, evidence in result.get("signal_evidence", {}).items():
        words += [(w, signal) for w in evidence if not _is_score(w)]
    return words


def _is_score(value):
    # Evidence like "frustration 0.82" or "confidence 0.31 < 0.45" is a score, not words in the message.
    return bool(re.fullmatch(r"[\w ]*\d+(\.\d+)?([ <>=]+\d+(\.\d+)?)?", value)) and any(ch.isdigit() for ch in value)
