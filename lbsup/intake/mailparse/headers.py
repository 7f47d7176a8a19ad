"""The header block: repaired before parsing, read after it without trusting the email package's
decoding (it replaces 8-bit bytes with U+FFFD and knows no charset supersets)."""

from __future__ import annotations

import functools
import re
from email import policy
from email.message import Message

from .addresses import parse_address_list
from .charsets import SURROGATE_ESCAPE, decode_8bit_header, lookup
from .model import CACHED_HEADER_CHARS, MAX_HEADER_CHARS
from .text import clean_header
from .words import ENCODED_WORD, decode_words

# --------------------------------------------------------------------------- the parsing policy


class _HeadersParsedOnce(policy.EmailPolicy):
    """The default policy, but each distinct header value is parsed once per process: the email
    package parses a header again on every access, and get_content_type() alone reads a part's
    Content-Type several times (a quarter of parse_message's time went there). Parsed headers are
    immutable str subclasses, so sharing them is safe; values repeat a lot across mail."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        value = "".join(_LINE_BREAK.split(value))
        if len(value) > CACHED_HEADER_CHARS:  # hostile mail must not fill the cache with huge values
            return self.header_factory(name, value)
        return _parsed_header(name, value)


_LINE_BREAK = re.compile(r"\n|\r")  # what the email package strips before parsing a header


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str):
    return policy.default.header_factory(name, value)


HEADERS_PARSED_ONCE = _HeadersParsedOnce()

# --------------------------------------------------------------------------- repair before parsing

# Each starts only where a field name starts, so even a search over a long run of name
# characters reads it once (they are matched at a line's start here).
HEADER_LINE = re.compile(rb"(?<![!-9;-~])[!-9;-~]+[ \t]*:")
_STRICT_HEADER_LINE = re.compile(rb"(?<![!-9;-~])[!-9;-~]+:")
_OBSOLETE_NAME = re.compile(rb"(?<![!-9;-~])([!-9;-~]+)[ \t]+:")  # RFC 5322 4.5.8 obs-optional: "From  : x"
_BLANK_LINE = re.compile(rb"\n\r?\n")
MAX_JUNK_LINES = 5
MAX_REPAIRS = 50


def _is_header_start(line: bytes) -> bool:
    return bool(HEADER_LINE.match(line)) or line.startswith(b"From ")


def header_start(raw: bytes) -> int | None:
    """Offset of the first header line, looking past a few lines of junk a forwarding tool or
    an export put in front ("---- Original email message ----"); None if there is none."""
    offset = 0
    for _ in range(MAX_JUNK_LINES + 1):
        end = raw.find(b"\n", offset)
        line = raw[offset:] if end < 0 else raw[offset:end]
        if _is_header_start(line):
            return offset
        if end < 0:
            return None
        offset = end + 1
    return None


def _quote(line: bytes) -> str:
    return repr(line.rstrip(b"\r").decode("utf-8", "replace")[:60])


def repair_header_block(raw: bytes, problems: list[str]) -> bytes:
    """Bytes the email package reads as the sender meant. It ends the headers at the first line
    that is neither a header nor a continuation, so one mangled line (a folded Subject that lost
    its indent, a stray word) pushed From, To and Subject into the body and lost the sender."""
    start = header_start(raw)
    if start is None:
        return raw
    if start and raw[:start].strip():
        skipped = [line for line in raw[:start].split(b"\n") if line.strip()]
        problems.append(f"skipped {len(skipped)} line(s) before the first header: {_quote(skipped[0])}")
        raw = raw[start:]
    elif start:
        raw = raw[start:]
    blank = _BLANK_LINE.search(raw)
    head_end = blank.start() + 1 if blank else len(raw)
    lines = raw[:head_end].split(b"\n")
    if all(_STRICT_HEADER_LINE.match(line) or line[:1] in (b" ", b"\t", b"") for line in lines[1:]) and (
            _STRICT_HEADER_LINE.match(lines[0]) or not _OBSOLETE_NAME.match(lines[0])):
        return raw  # the usual case, checked in one pass
    repaired = list(lines)
    repairs = 0
    for index in range(len(lines)):
        line = lines[index]
        if line[:1] in (b" ", b"\t", b"") or _STRICT_HEADER_LINE.match(line):
            continue
        if index == 0 and not _OBSOLETE_NAME.match(line):
            continue  # a Unix "From " line
        if repairs >= MAX_REPAIRS:
            break
        obsolete = _OBSOLETE_NAME.match(line)
        if obsolete:
            repaired[index] = obsolete.group(1) + b":" + line[obsolete.end():]
            problems.append(f"header {_quote(obsolete.group(1))} had spaces before its colon")
            repairs += 1
            continue
        following = next((later for later in lines[index + 1:] if later[:1] not in (b" ", b"\t")), b"")
        if not _is_header_start(following) or following.startswith(b"From "):
            break  # the body starts here, only without its blank line: the email package copes
        repaired[index] = b" " + line
        repairs += 1
        problems.append(f"header line {index + 1} {_quote(line)} is neither a header nor a continuation; "
                        "read as a continuation so the headers after it are kept")
    if not repairs:
        return raw
    return b"\n".join(repaired) + raw[head_end:]

# --------------------------------------------------------------------------- reading after parsing

def _declared_charset(message: Message) -> str | None:
    """The charset the sender declared for the text: the top part's, else the first text part's."""
    try:
        charset = message.get_content_charset()
        if charset:
            return charset
        for index, part in enumerate(message.walk()):
            if index > 50:
                break
            if part.get_content_maintype() == "text" and part.get_content_charset():
                return part.get_content_charset()
    except Exception:  # noqa: BLE001 - a broken Content-Type names no charset
        return None
    return None


def _encoded_word_charset(raw: list[tuple[str, str]]) -> str | None:
    """A client that wrote one header as Windows-1252 encoded words wrote the raw ones in it too."""
    for _name, value in raw:
        if "=?" in value:
            match = ENCODED_WORD.search(value)
            if match and match.group(1).lower() not in ("utf-8", "us-ascii"):
                return match.group(1)
    return None


def _raw_value(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[: MAX_HEADER_CHARS * 4]


def read_raw_header(value: str, declared: str | None) -> tuple[str, str | None]:
    """A raw header value as text: 8-bit bytes and raw ISO-2022-JP decoded; how, if at all."""
    how = None
    if SURROGATE_ESCAPE.search(value):
        value, how = decode_8bit_header(value.encode("utf-8", "surrogateescape"), declared)
    if "\x1b$" in value or "\x1b(" in value:
        # Japanese mailers put ISO-2022-JP into headers without encoded words.
        codec = lookup("iso-2022-jp")
        try:
            value, how = codec.decode(value.encode("latin-1"))[0], "ISO-2022-JP (CP50221)"
        except (UnicodeError, ValueError):
            pass
    return value, how


class Headers:
    """Header access that survives headers the strict policy cannot model."""

    def __init__(self, message: Message, problems: list[str]):
        self._message = message
        self._problems = problems
        try:
            raw = [(str(name), _raw_value(value)) for name, value in message.raw_items()]
        except Exception:  # noqa: BLE001
            raw = [(str(name), _raw_value(value)) for name, value in getattr(message, "_headers", [])]
        declared: list[str | None] = []  # looked up once, and only for mail that needs it
        self._raw = []
        for name, value in raw:
            if (not value.isascii() and SURROGATE_ESCAPE.search(value)) or "\x1b" in value:
                if not declared:
                    declared.append(_declared_charset(message) or _encoded_word_charset(raw))
                value, how = read_raw_header(value, declared[0])
                if how and how != "utf-8":  # UTF-8 is what RFC 6532 allows: no repair to report
                    problems.append(f"raw 8-bit bytes in {name[:40]} decoded as {how}")
            self._raw.append((name, value))
        self._by_name: dict[str, list[str]] = {}
        for key, value in self._raw:
            self._by_name.setdefault(key.lower(), []).append(value)
        self.names = set(self._by_name)

    def all_raw(self, name: str) -> list[str]:
        return self._by_name.get(name, [])

    def first_raw(self, name: str) -> str | None:
        values = self.all_raw(name)
        return values[0] if values else None

    def first_values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in self._raw:
            values.setdefault(key.lower(), clean_header(decode_words(value)))
        return values

    def text(self, name: str) -> str:
        raw = self.first_raw(name)
        return "" if raw is None else clean_header(decode_words(raw))

    def addresses(self, name: str):
        # The raw value, encoded words still encoded: names are decoded after the list is split.
        found = []
        for raw in self.all_raw(name):
            addresses, notes = parse_address_list(raw)
            found.extend(addresses)
            self._problems.extend(f"{name}: {note}" for note in notes)
        return found
