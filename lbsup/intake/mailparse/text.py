"""Text as lbsup stores it: no control characters in headers, no NUL anywhere, NFC, bounded."""

from __future__ import annotations

import re
import unicodedata

from .charsets import unsurrogate
from .model import MAX_HEADER_CHARS

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE_RUN = re.compile(r"\s+")


def clean_header(value: str) -> str:
    value = unsurrogate(value)
    value = _CONTROL_CHARS.sub("", value)
    return _WHITESPACE_RUN.sub(" ", value).strip()[:MAX_HEADER_CHARS]


def clean_text(text: str, problems: list[str], what: str = "body") -> str:
    if "\x00" in text:
        # PostgreSQL cannot store NUL; dropping them is the repair, and the list says it happened.
        problems.append(f"removed {text.count(chr(0))} NUL characters from the {what}")
        text = text.replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text) if not text.isascii() else text


def truncate(text: str, limit: int, problems: list[str], what: str) -> str:
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text
    problems.append(f"{what} truncated at {limit} bytes (was {len(encoded)})")
    return encoded[:limit].decode("utf-8", "ignore")
