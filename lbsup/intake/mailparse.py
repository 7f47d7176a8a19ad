"""Turn raw RFC 5322 bytes into a ParsedMail, whatever the bytes are.

``parse_message`` never raises except ``MailRejected`` for input that is not
mail at all. Everything it had to guess or cut is listed in ``problems`` so an
agent (and the audit trail) can see why the text looks the way it does.
"""

from __future__ import annotations

import codecs
import email
import functools
import hashlib
import mimetypes
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from lbsup.intake.autoreply import AutoKind, detect_automatic_mail
from lbsup.intake.mail_html import html_to_text, sanitize_html
from lbsup.intake.mail_quoting import split_reply

DEFAULT_MAX_TEXT_BYTES = 1_000_000
DEFAULT_MAX_ATTACHMENT_BYTES = 25_000_000
DEFAULT_MAX_ATTACHMENTS = 50
MAX_MIME_DEPTH = 20
MAX_MIME_PARTS = 500
MAX_HEADER_CHARS = 4_000

__all__ = [
    "Attachment",
    "AutoKind",
    "ForwardedMail",
    "MailAddress",
    "MailRejected",
    "ParsedMail",
    "normalize_message_id",
    "parse_message",
]


class _HeadersParsedOnce(policy.EmailPolicy):
    """The default policy, but each distinct header value is parsed once per process: the email
    package parses a header again on every access, and get_content_type() alone reads a part's
    Content-Type several times (a quarter of parse_message's time went there). Parsed headers are
    immutable str subclasses, so sharing them is safe; values repeat a lot across mail."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        value = "".join(_LINE_BREAK.split(value))
        if len(value) > _CACHED_HEADER_CHARS:  # hostile mail must not fill the cache with huge values
            return self.header_factory(name, value)
        return _parsed_header(name, value)


_LINE_BREAK = re.compile(r"\n|\r")  # what the email package strips before parsing a header
_CACHED_HEADER_CHARS = 1_000


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str):
    return policy.default.header_factory(name, value)


HEADERS_PARSED_ONCE = _HeadersParsedOnce()


class MailRejected(ValueError):
    """The input is not an e-mail message at all; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MailAddress:
    email: str
    name: str = ""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False
    skipped_reason: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class ForwardedMail:
    """A message/rfc822 part: who wrote it, when, and its text."""

    from_email: str | None
    from_name: str
    subject: str
    date: datetime | None
    text: str


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    dedup_key: str
    content_sha256: str
    subject: str
    from_email: str | None
    from_name: str
    to: tuple[MailAddress, ...]
    cc: tuple[MailAddress, ...]
    reply_to: tuple[MailAddress, ...]
    delivered_to: tuple[str, ...]
    x_original_to: tuple[str, ...]
    date: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    new_text: str
    quoted_text: str
    signature: str
    html: str
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ForwardedMail, ...]
    auto: AutoKind | None
    auto_reason: str | None
    language_hint: str | None
    problems: tuple[str, ...]

    @property
    def routing_recipients(self) -> tuple[str, ...]:
        """Every address the message was delivered to, most specific first, without repeats."""
        seen: dict[str, None] = {}
        for address in (*self.x_original_to, *self.delivered_to, *(a.email for a in self.to + self.cc)):
            seen.setdefault(address, None)
        return tuple(seen)


# --------------------------------------------------------------------------- entry point


def parse_message(
    raw: bytes,
    *,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
) -> ParsedMail:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MailRejected(f"expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise MailRejected("empty input")
    if not _has_header_block(raw):
        raise MailRejected("no mail headers found")
    limits = _Limits(max_text_bytes, max_attachment_bytes, max_attachments)
    try:
        message = email.message_from_bytes(raw, policy=HEADERS_PARSED_ONCE)
        return _build(message, raw, limits, problems=[])
    except MailRejected:
        raise
    except Exception as error:  # noqa: BLE001 - any parser failure falls back, never escapes
        first_failure = f"{type(error).__name__}: {str(error)[:200]}"
    try:
        message = email.message_from_bytes(raw, policy=policy.compat32)
        return _build(message, raw, limits, problems=[f"strict parsing failed ({first_failure}); parsed leniently"])
    except MailRejected:
        raise
    except Exception as error:  # noqa: BLE001
        return _salvage(raw, limits, f"{first_failure}; lenient: {type(error).__name__}: {str(error)[:200]}")


_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")


def _has_header_block(raw: bytes) -> bool:
    """True when the first non-blank line looks like an RFC 5322 header (or a Unix From line)."""
    first = raw.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first)) or first.startswith(b"From ")


@dataclass(frozen=True)
class _Limits:
    text_bytes: int
    attachment_bytes: int
    attachments: int


# --------------------------------------------------------------------------- building


def _build(message: Message, raw: bytes, limits: _Limits, problems: list[str]) -> ParsedMail:
    headers = _Headers(message, problems)
    if not headers.names:
        raise MailRejected("no mail headers found")

    subject = headers.text("subject")
    from_list = headers.addresses("from") or headers.addresses("sender")
    sender = from_list[0] if from_list else None
    message_id = normalize_message_id(headers.first_raw("message-id"))
    if headers.first_raw("message-id") and message_id is None:
        problems.append("Message-ID is malformed and was ignored")

    body = _BodyCollector(limits, problems)
    body.walk(message, depth=0)
    body.warn_about_defects(message)

    html_source = "\n".join(body.html_parts)
    html = _truncate(sanitize_html(html_source), limits.text_bytes, problems, "HTML") if html_source else ""
    text = "\n\n".join(part for part in body.text_parts if part.strip())
    if not text.strip() and html:
        text = html_to_text(html)
    if not text.strip():
        text = "\n\n".join(a.summary for a in body.attachments if a.summary)
    text = _truncate(_clean_text(text, problems), limits.text_bytes, problems, "body")
    for forwarded in body.forwarded:
        text += _forwarded_block(forwarded)
    split = split_reply(text)

    automatic = detect_automatic_mail(
        headers.first_values(), subject=subject, from_email=sender.email if sender else ""
    )
    date = _parse_date(headers.first_raw("date"), problems)
    content_sha256 = _content_hash(headers, text, body.attachments)
    return ParsedMail(
        message_id=message_id,
        dedup_key=message_id or f"sha256:{content_sha256}",
        content_sha256=content_sha256,
        subject=subject,
        from_email=sender.email if sender else None,
        from_name=sender.name if sender else "",
        to=tuple(headers.addresses("to")),
        cc=tuple(headers.addresses("cc")),
        reply_to=tuple(headers.addresses("reply-to")),
        delivered_to=tuple(a.email for a in headers.addresses("delivered-to")),
        x_original_to=tuple(a.email for a in headers.addresses("x-original-to")),
        date=date,
        in_reply_to=tuple(_message_id_list(headers.first_raw("in-reply-to"))),
        references=tuple(_message_id_list(" ".join(headers.all_raw("references")))),
        text=text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        html=html,
        attachments=tuple(body.attachments),
        forwarded=tuple(body.forwarded),
        auto=automatic.kind if automatic else None,
        auto_reason=automatic.reason if automatic else None,
        language_hint=_language(headers.first_raw("content-language") or body.language),
        problems=tuple(dict.fromkeys(problems)),
    )


def _salvage(raw: bytes, limits: _Limits, failure: str) -> ParsedMail:
    """Last resort when no parser copes: headers up to the first blank line, the rest as text."""
    problems = [f"MIME structure could not be parsed ({failure}); body kept as raw text"]
    normalized = raw.replace(b"\r\n", b"\n")
    head, _, rest = normalized.partition(b"\n\n")
    fields: dict[str, str] = {}
    for line in head.split(b"\n"):
        name, sep, value = line.partition(b":")
        if sep and name and not name[:1].isspace():
            key = name.decode("ascii", "replace").strip().lower()
            fields.setdefault(key, value.decode("utf-8", "replace").strip())
    # Addresses are parsed from the raw values (see _addresses_from_text); the rest reads decoded.
    decoded = {key: _decode_words(value) for key, value in fields.items()}
    text = _truncate(_clean_text(rest.decode("utf-8", "replace"), problems), limits.text_bytes, problems, "body")
    senders = [a for a in _addresses_from_text(fields.get("from", ""))]
    message_id = normalize_message_id(fields.get("message-id"))
    digest = hashlib.sha256(
        "\x1f".join([decoded.get("from", ""), decoded.get("to", ""), decoded.get("date", ""),
                     decoded.get("subject", ""), text]).encode("utf-8", "replace")
    ).hexdigest()
    split = split_reply(text)
    automatic = detect_automatic_mail(
        decoded, subject=decoded.get("subject", ""), from_email=senders[0].email if senders else ""
    )
    return ParsedMail(
        message_id=message_id,
        dedup_key=message_id or f"sha256:{digest}",
        content_sha256=digest,
        subject=_clean_header(decoded.get("subject", "")),
        from_email=senders[0].email if senders else None,
        from_name=senders[0].name if senders else "",
        to=tuple(_addresses_from_text(fields.get("to", ""))),
        cc=tuple(_addresses_from_text(fields.get("cc", ""))),
        reply_to=tuple(_addresses_from_text(fields.get("reply-to", ""))),
        delivered_to=tuple(a.email for a in _addresses_from_text(fields.get("delivered-to", ""))),
        x_original_to=tuple(a.email for a in _addresses_from_text(fields.get("x-original-to", ""))),
        date=_parse_date(fields.get("date"), problems),
        in_reply_to=tuple(_message_id_list(fields.get("in-reply-to"))),
        references=tuple(_message_id_list(fields.get("references"))),
        text=text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        html="",
        attachments=(),
        forwarded=(),
        auto=automatic.kind if automatic else None,
        auto_reason=automatic.reason if automatic else None,
        language_hint=_language(fields.get("content-language")),
        problems=tuple(problems),
    )


# --------------------------------------------------------------------------- headers


class _Headers:
    """Header access that survives headers the strict policy cannot model."""

    def __init__(self, message: Message, problems: list[str]):
        self._message = message
        self._problems = problems
        try:
            self._raw = [(str(name), _raw_value(value)) for name, value in message.raw_items()]
        except Exception:  # noqa: BLE001
            self._raw = [(str(name), _raw_value(value)) for name, value in getattr(message, "_headers", [])]
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
            values.setdefault(key.lower(), _clean_header(_decode_words(value)))
        return values

    def text(self, name: str) -> str:
        raw = self.first_raw(name)
        if raw is None:
            return ""
        try:
            value = str(self._message.get(name, ""))
        except Exception:  # noqa: BLE001 - strict header model failed; decode by hand
            value = _decode_words(raw)
        return _clean_header(value)

    def addresses(self, name: str) -> list[MailAddress]:
        # The raw value, encoded words still encoded: _parse_addresses decodes names after parsing.
        found: list[MailAddress] = []
        for raw in self.all_raw(name):
            found.extend(_addresses_from_text(raw))
        return found


def _raw_value(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[: MAX_HEADER_CHARS * 4]


def _decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets and raw 8-bit bytes."""
    value = _unsurrogate(value)
    if "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001
        return value
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            decoded.append(_decode_bytes(chunk, charset, problems=None)[0])
        else:
            decoded.append(chunk)
    return "".join(decoded)


_SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")


def _unsurrogate(text: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; most such mail is UTF-8."""
    if not _SURROGATE_ESCAPE.search(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    return _decode_bytes(data, None, problems=None)[0]


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE_RUN = re.compile(r"\s+")


def _clean_header(value: str) -> str:
    value = _unsurrogate(value)
    value = _CONTROL_CHARS.sub("", value)
    return _WHITESPACE_RUN.sub(" ", value).strip()[:MAX_HEADER_CHARS]


def _addresses_from_text(value: str) -> tuple[MailAddress, ...]:
    """value: the header as it came, RFC 2047 encoded words not yet decoded.

    The list is split into mailboxes first and only then is each display name decoded. Decoding
    first let an encoded name speak for the address: ``=?utf-8?q?Linda_=3Clinda=40x.example=3E?=
    <mallory@evil.example>`` read as Linda's address, and an encoded comma ("Müller, Bernd") split
    one mailbox in two. What an encoded word decodes to is display text, never an address."""
    # The same To/Cc (the support address) and From values recur from message to message, and
    # getaddresses is the slowest part of reading headers: short values are parsed once.
    return (_parse_addresses_once if len(value) <= _CACHED_HEADER_CHARS else _parse_addresses)(value)


def _parse_addresses(value: str) -> tuple[MailAddress, ...]:
    value = _clean_header(value)
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001
        pairs = []
    found = []
    for name, address in pairs:
        address = address.strip().strip("<>").strip()
        if "@" not in address or " " in address or "=?" in address:
            continue  # an encoded word is not allowed in an address (RFC 2047 section 5)
        local, _, domain = address.rpartition("@")
        found.append(MailAddress(email=f"{local}@{domain}".lower(), name=_display_name(name)))
    return tuple(found)


def _display_name(name: str) -> str:
    return _clean_header(_decode_words(name)).strip('"\' ')


_parse_addresses_once = functools.lru_cache(maxsize=4096)(_parse_addresses)


_BRACKETED_ID = re.compile(r"<([^<>\s]+)>")


def normalize_message_id(value: str | None) -> str | None:
    """``<Local@Example.COM>`` -> ``Local@example.com``; None when there is no usable id."""
    if not value:
        return None
    value = _clean_header(value)
    bracketed = _BRACKETED_ID.search(value)
    candidate = bracketed.group(1) if bracketed else value.strip().strip("<>")
    candidate = re.sub(r"\s+", "", candidate)
    if not candidate or len(candidate) > 995:
        return None
    local, at, domain = candidate.rpartition("@")
    if not at or not local or not domain:
        return candidate if bracketed else None
    return f"{local}@{domain.lower()}"


def _message_id_list(value: str | None) -> list[str]:
    if not value:
        return []
    value = _clean_header(value)
    ids = _BRACKETED_ID.findall(value) or [token for token in re.split(r"[\s,]+", value) if "@" in token]
    normalized = [normalize_message_id(f"<{item}>") for item in ids]
    return list(dict.fromkeys(item for item in normalized if item))


def _parse_date(value: str | None, problems: list[str]) -> datetime | None:
    if not value:
        return None
    value = _clean_header(value)
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


def _language(value: str | None) -> str | None:
    if not value:
        return None
    first = _clean_header(value).split(",")[0].strip().lower()
    return first[:35] if re.fullmatch(r"[a-z]{1,8}(-[a-z0-9]{1,8})*", first) else None


# --------------------------------------------------------------------------- bodies


# Mail clients label text with a charset whose superset they actually used
# (the WHATWG encoding standard makes the same substitutions).
_CHARSET_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "cp1252",
}
_FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")


def _decode_bytes(data: bytes, charset: str | None, problems: list[str] | None) -> tuple[str, str]:
    """Decode ``data`` as its declared charset if that works, else the first fallback that does."""
    declared = (charset or "").strip().strip("\"'").lower()
    codec = None
    if declared:
        try:
            codec = codecs.lookup(_CHARSET_SUPERSETS.get(declared, declared)).name
        except (LookupError, ValueError):
            if problems is not None:
                problems.append(f"unknown charset {declared[:40]!r}, decoded by guessing")
    if codec:
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, ValueError):
            pass
    for fallback in _FALLBACK_CHARSETS:
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        if problems is not None and codec:
            problems.append(f"text is not valid {declared[:40]}, decoded as {fallback}")
        return text, fallback
    return data.decode("latin-1"), "latin-1"  # unreachable: latin-1 decodes every byte


def _clean_text(text: str, problems: list[str], what: str = "body") -> str:
    if "\x00" in text:
        # PostgreSQL cannot store NUL; dropping them is the repair, and the list says it happened.
        problems.append(f"removed {text.count(chr(0))} NUL characters from the {what}")
        text = text.replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text) if not text.isascii() else text


def _truncate(text: str, limit: int, problems: list[str], what: str) -> str:
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text
    problems.append(f"{what} truncated at {limit} bytes (was {len(encoded)})")
    return encoded[:limit].decode("utf-8", "ignore")


class _BodyCollector:
    def __init__(self, limits: _Limits, problems: list[str]):
        self.limits = limits
        self.problems = problems
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.attachments: list[Attachment] = []
        self.forwarded: list[ForwardedMail] = []
        self.language: str | None = None
        self._parts_seen = 0

    def walk(self, part: Message, depth: int) -> None:
        self._parts_seen += 1
        if self._parts_seen > MAX_MIME_PARTS:
            if self._parts_seen == MAX_MIME_PARTS + 1:
                self.problems.append(f"more than {MAX_MIME_PARTS} MIME parts; the rest were ignored")
            return
        if depth > MAX_MIME_DEPTH:
            self.problems.append(f"MIME nesting deeper than {MAX_MIME_DEPTH}; inner parts ignored")
            return
        content_type = _content_type(part)
        if self.language is None and depth > 0:
            self.language = _part_language(part)
        if content_type in ("message/rfc822", "message/global"):
            self._forwarded(part, depth)
            return
        if content_type.startswith("message/"):
            # delivery-status and friends: keep their text as an attachment for the record
            self._attachment(part, content_type, _disposition(part), _filename(part))
            return
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                for child in children:
                    if isinstance(child, Message):
                        self.walk(child, depth + 1)
            return
        disposition = _disposition(part)
        filename = _filename(part)
        if content_type == "text/plain" and disposition != "attachment" and not filename:
            self.text_parts.append(self._text(part))
        elif content_type == "text/html" and disposition != "attachment" and not filename:
            self.html_parts.append(self._text(part))
        else:
            self._attachment(part, content_type, disposition, filename)

    def _text(self, part: Message) -> str:
        data = _payload_bytes(part)
        # Decode at most a little over the limit: the rest is cut anyway.
        cut = self.limits.text_bytes * 4 + 16
        if len(data) > cut:
            data = data[:cut]
        text, _codec = _decode_bytes(data, _charset(part), self.problems)
        return text

    def _attachment(self, part: Message, content_type: str, disposition: str | None, filename: str) -> None:
        data = _payload_bytes(part)
        content_id = normalize_message_id(str(part.get("content-id", "") or "")) if part.get("content-id") else None
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        summary = None
        if content_type == "text/calendar":
            calendar_text, _ = _decode_bytes(data[:200_000], _charset(part), None)
            summary = summarize_calendar(calendar_text)
        name = _safe_filename(filename, content_type, len(self.attachments) + 1)
        skipped = None
        if len(self.attachments) >= self.limits.attachments:
            skipped = f"more than {self.limits.attachments} attachments"
        elif len(data) > self.limits.attachment_bytes:
            skipped = f"larger than {self.limits.attachment_bytes} bytes"
        if skipped:
            self.problems.append(f"attachment {name!r} not kept: {skipped}")
        self.attachments.append(
            Attachment(
                filename=name,
                content_type=content_type,
                size=len(data),
                content=b"" if skipped else data,
                content_id=content_id,
                inline=inline,
                skipped_reason=skipped,
                summary=summary,
            )
        )

    def _forwarded(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
        if inner is None:
            self._attachment(part, "message/rfc822", _disposition(part), _filename(part))
            return
        inner_problems: list[str] = []
        inner_headers = _Headers(inner, inner_problems)
        inner_body = _BodyCollector(self.limits, inner_problems)
        inner_body._parts_seen = self._parts_seen
        inner_body.walk(inner, depth + 1)
        self._parts_seen = inner_body._parts_seen
        text = "\n\n".join(t for t in inner_body.text_parts if t.strip())
        if not text.strip() and inner_body.html_parts:
            text = html_to_text(sanitize_html("\n".join(inner_body.html_parts)))
        senders = inner_headers.addresses("from")
        subject = inner_headers.text("subject")
        self.forwarded.append(
            ForwardedMail(
                from_email=senders[0].email if senders else None,
                from_name=senders[0].name if senders else "",
                subject=subject,
                date=_parse_date(inner_headers.first_raw("date"), inner_problems),
                text=_truncate(_clean_text(text, inner_problems, "forwarded body"), self.limits.text_bytes, inner_problems,
                               "forwarded body"),
            )
        )
        self.attachments.extend(inner_body.attachments)
        self.problems.extend(f"forwarded message: {problem}" for problem in inner_problems)
        try:
            data = inner.as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001 - the parsed form is what matters; raw copy is a bonus
            data = b""
        self._attachment_from_bytes(data, subject)

    def _attachment_from_bytes(self, data: bytes, subject: str) -> None:
        name = _safe_filename(f"{subject or 'forwarded message'}.eml", "message/rfc822", len(self.attachments) + 1)
        skipped = None
        if len(self.attachments) >= self.limits.attachments:
            skipped = f"more than {self.limits.attachments} attachments"
        elif len(data) > self.limits.attachment_bytes:
            skipped = f"larger than {self.limits.attachment_bytes} bytes"
        self.attachments.append(
            Attachment(name, "message/rfc822", len(data), b"" if skipped else data, skipped_reason=skipped)
        )

    def warn_about_defects(self, message: Message) -> None:
        names: list[str] = []
        stack = [(message, 0)]
        while stack and len(names) < 20:
            part, depth = stack.pop()
            names.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
            if depth < MAX_MIME_DEPTH and part.is_multipart() and isinstance(part.get_payload(), list):
                stack.extend((child, depth + 1) for child in part.get_payload() if isinstance(child, Message))
        for name in dict.fromkeys(names):
            self.problems.append(f"MIME defect: {name}")


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"
    return value if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", value or "") else "application/octet-stream"


def _part_language(part: Message) -> str | None:
    try:
        value = part.get("content-language")
        return str(value) if value else None
    except Exception:  # noqa: BLE001
        return None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    return _decode_words(str(name))


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken transfer encoding: keep the raw text
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    if isinstance(payload, list):
        try:
            return b"\n".join(item.as_bytes(policy=policy.compat32) for item in payload if isinstance(item, Message))
        except Exception:  # noqa: BLE001
            return b""
    return b""


_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def _safe_filename(name: str, content_type: str, number: int) -> str:
    """Only the last path component, without control or shell-special characters."""
    name = _unsurrogate(name).replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFC", _UNSAFE_FILENAME_CHARS.sub("_", name)).strip().lstrip(".").strip()
    if not name:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = f"attachment-{number}{extension}"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[:190]}.{extension[:9]}" if dot and len(extension) < 10 else name[:200]
    return name


def _forwarded_block(forwarded: ForwardedMail) -> str:
    sender = f"{forwarded.from_name} <{forwarded.from_email}>" if forwarded.from_name else (forwarded.from_email or "")
    date = forwarded.date.isoformat() if forwarded.date else ""
    return (
        "\n\n---------- Forwarded message ---------\n"
        f"From: {sender}\nDate: {date}\nSubject: {forwarded.subject}\n\n{forwarded.text}"
    )


def _content_hash(headers: _Headers, text: str, attachments: list[Attachment]) -> str:
    """Stable across re-deliveries: ignores Received/Delivered-To and other transport headers."""
    digest = hashlib.sha256()
    for name in ("from", "to", "date", "subject"):
        digest.update(_clean_header(_decode_words(headers.first_raw(name) or "")).encode("utf-8", "replace"))
        digest.update(b"\x1f")
    digest.update(text.encode("utf-8", "replace"))
    for attachment in attachments:
        digest.update(b"\x1e" + attachment.filename.encode("utf-8", "replace") + str(attachment.size).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- calendar


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
    return _clean_header(", ".join(parts))


def _ics_time(value: str) -> str:
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z)?)?", value.strip())
    if not match:
        return value
    year, month, day, hour, minute, _second, utc = match.groups()
    when = f"{year}-{month}-{day}"
    if hour:
        when += f" {hour}:{minute}{' UTC' if utc else ''}"
    return when
