"""Delivery reports: which of our messages bounced, for whom, and why.

RFC 3464 reports (multipart/report with message/delivery-status) are read field by field; the
free-text bounces of older MTAs (qmail, Exchange, "Delivery failure" notes) give what their text
holds: an enhanced status code, the recipient, the returned Message-ID."""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from .addresses import parse_address_list
from .body import content_type_of
from .fields import message_id_list, normalize_message_id
from .headers import Headers
from .model import Bounce
from .text import clean_header
from .words import decode_words

_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -]")
# "<user@example.com>:" (qmail), "user@example.com: 550 …", "To: user@example.com"
_TEXT_RECIPIENT = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>:|^[ \t]*([^<>\s@:]+@[^<>\s@:]+):\s", re.MULTILINE)
_TEXT_MESSAGE_ID = re.compile(r"^[ \t]*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
# DSN fields that arrive as plain text when the report's MIME structure is broken
_TEXT_FIELD = re.compile(r"^[ \t]*(Final-Recipient|Original-Recipient|Action|Status|Diagnostic-Code)[ \t]*:"
                         r"[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
_DELAY_WORDS = re.compile(r"\b(delayed|will (?:be )?retr(?:y|ied)|still trying|not yet been delivered)\b",
                          re.IGNORECASE)
MAX_DIAGNOSTIC = 300


def read_bounce(message: Message, headers: Headers, text: str, is_bounce: bool) -> Bounce | None:
    """None unless the message is a delivery report (a multipart/report, a delivery-status part,
    or mail the auto-reply check calls a bounce)."""
    report = _find_parts(message)
    if report.status_blocks:
        fields = _recipient_fields(report.status_blocks)
        status = _status(fields.get("status"))
        return Bounce(
            original_message_id=report.original_id or _own_reference(headers),
            recipient=_address(fields.get("final-recipient") or fields.get("original-recipient")),
            status=status,
            action=(fields.get("action") or "").strip().lower() or None,
            diagnostic=(_diagnostic(fields.get("diagnostic-code")) or _status_comment(fields.get("status"))
                        or _text_diagnostic(text, status)),
        )
    if not (is_bounce or report.is_report):
        return None
    return _free_text_bounce(text, report.original_id or _own_reference(headers))


class _Parts:
    def __init__(self):
        self.status_blocks: list[list[tuple[str, str]]] = []
        self.original_id: str | None = None
        self.is_report = False


def _find_parts(message: Message) -> _Parts:
    found = _Parts()
    found.is_report = content_type_of(message) == "multipart/report"
    for index, part in enumerate(message.walk()):
        if index > 100:
            break
        kind = content_type_of(part)
        if kind in ("message/delivery-status", "message/global-delivery-status") and not found.status_blocks:
            # some MTAs put their prose in a first delivery-status part, the fields in a second
            blocks = _status_blocks(part)
            if _recipient_fields(blocks):
                found.status_blocks = blocks
        elif kind in ("message/rfc822", "message/global") and found.original_id is None:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found.original_id = normalize_message_id(str(inner[0].get("message-id", "") or ""))
        elif kind in ("text/rfc822-headers", "message/rfc822-headers") and found.original_id is None:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found.original_id = normalize_message_id(str(inner[0].get("message-id", "") or ""))
                continue
            text = _part_text(part)
            found.original_id = normalize_message_id(str(HeaderParser().parsestr(text).get("message-id", "") or ""))
    return found


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if isinstance(payload, bytes):
        return payload[:100_000].decode("utf-8", "replace")
    payload = part.get_payload()
    return payload[:100_000] if isinstance(payload, str) else ""


def _status_blocks(part: Message) -> list[list[tuple[str, str]]]:
    """The per-message and per-recipient field groups of a delivery-status part."""
    payload = part.get_payload()
    blocks: list[list[tuple[str, str]]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                try:
                    blocks.append([(str(k).lower(), str(v)) for k, v in block.raw_items()])
                except Exception:  # noqa: BLE001
                    continue
        if any(blocks):
            return blocks
    text = _part_text(part).replace("\r\n", "\n")
    for chunk in text.split("\n\n"):
        fields: list[tuple[str, str]] = []
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and fields:
                fields[-1] = (fields[-1][0], f"{fields[-1][1]} {line.strip()}")
                continue
            name, sep, value = line.partition(":")
            if sep and name.strip():
                fields.append((name.strip().lower(), value.strip()))
        if fields:
            blocks.append(fields)
    return blocks


def _recipient_fields(blocks: list[list[tuple[str, str]]]) -> dict[str, str]:
    """The first recipient block that failed, else the first with an action, else any."""
    recipients = [dict(reversed(block)) for block in blocks if any(k in ("final-recipient", "action") for k, _ in block)]
    for fields in recipients:
        if (fields.get("action") or "").strip().lower() == "failed":
            return fields
    return recipients[0] if recipients else {}


def _own_reference(headers: Headers) -> str | None:
    in_reply_to = message_id_list(headers.first_raw("in-reply-to"))
    if in_reply_to:
        return in_reply_to[0]
    references = message_id_list(" ".join(headers.all_raw("references")))
    return references[-1] if references else None


def _address(value: str | None) -> str | None:
    if not value:
        return None
    _kind, sep, address = value.partition(";")
    address = (address if sep else value).strip()
    parsed, _notes = parse_address_list(address)
    return parsed[0].email if parsed else None


def _status(value: str | None) -> str | None:
    match = _STATUS.search(value or "")
    return match.group(1) if match else None


def _status_comment(value: str | None) -> str | None:
    """``4.2.2 (Persistent transient failure - mailbox: mailbox full)``: the words, when no
    Diagnostic-Code says more."""
    match = _STATUS.search(value or "")
    rest = clean_header(value[match.end():] if match else "").strip("() ")
    return rest[:MAX_DIAGNOSTIC] or None


def _diagnostic(value: str | None) -> str | None:
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    if sep and re.fullmatch(r"\s*[A-Za-z][\w-]{0,20}\s*", kind):  # "smtp; 550 …", "X-Postfix; …"
        value = rest
    line = clean_header(decode_words(value))
    return line[:MAX_DIAGNOSTIC] or None


def _text_diagnostic(text: str, status: str | None) -> str | None:
    """The first line of the report's prose with an SMTP reply or the status code in it."""
    for line in text[:20_000].split("\n"):
        if _SMTP_REPLY.search(line) or (status and status in line):
            return clean_header(line)[:MAX_DIAGNOSTIC] or None
    return None


def _returned_message_id(text: str) -> str | None:
    returned = _TEXT_MESSAGE_ID.search(text[:200_000])
    return normalize_message_id(returned.group(1)) if returned else None


def _free_text_bounce(text: str, original_id: str | None) -> Bounce | None:
    head = text[:20_000]
    fields: dict[str, str] = {}
    for match in _TEXT_FIELD.finditer(head):
        fields.setdefault(match.group(1).lower(), match.group(2).strip())
    if fields.get("final-recipient") or fields.get("original-recipient"):
        return Bounce(
            original_message_id=original_id or _returned_message_id(text),
            recipient=_address(fields.get("final-recipient") or fields.get("original-recipient")),
            status=_status(fields.get("status")),
            action=(fields.get("action") or "").strip().lower() or None,
            diagnostic=_diagnostic(fields.get("diagnostic-code")) or _status_comment(fields.get("status")),
        )
    status = _status(head)
    recipient_match = _TEXT_RECIPIENT.search(head)
    recipient = None
    if recipient_match:
        recipient = (recipient_match.group(1) or recipient_match.group(2) or "").lower() or None
    original_id = original_id or _returned_message_id(text)
    if not (original_id or recipient or status):
        return None
    diagnostic = _text_diagnostic(head, status)
    if status:
        action = "delayed" if status.startswith("4") else "failed" if status.startswith("5") else None
    else:
        action = "delayed" if _DELAY_WORDS.search(head) else "failed"
    return Bounce(original_message_id=original_id, recipient=recipient, status=status, action=action,
                  diagnostic=diagnostic)
