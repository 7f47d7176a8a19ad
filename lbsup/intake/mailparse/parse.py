"""The entry point: repair the header block, parse, and build the ParsedMail from its steps."""

from __future__ import annotations

import email
import hashlib
from email import policy
from email.message import Message

from lbsup.intake.autoreply import AutoKind, detect_automatic_mail
from lbsup.intake.mail_html import html_to_text, sanitize_html
from lbsup.intake.mail_quoting import split_reply

from . import headers as _headers
from .body import BodyCollector, content_type_of
from .bounce import read_bounce
from .fields import language, message_id_list, normalize_message_id, parse_date
from .headers import Headers, header_start, repair_header_block
from .model import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    DEFAULT_MAX_ATTACHMENTS,
    DEFAULT_MAX_TEXT_BYTES,
    Attachment,
    ForwardedMail,
    Limits,
    MailRejected,
    ParsedMail,
)
from .salvage import salvage
from .text import clean_header, clean_text, truncate
from .words import decode_words

# Where the sender comes from when From names no usable address, most trustworthy first.
SENDER_FALLBACKS = ("reply-to", "sender", "return-path")


def parse_message(
    raw: bytes,
    *,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
) -> ParsedMail:
    """Never raises except ``MailRejected`` for input that is not mail at all. Everything it had
    to guess or cut is listed in ``problems``."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MailRejected(f"expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise MailRejected("empty input")
    if header_start(raw.lstrip(b"\r\n")) is None:
        raise MailRejected("no mail headers found")
    limits = Limits(max_text_bytes, max_attachment_bytes, max_attachments)
    repairs: list[str] = []
    repaired = repair_header_block(raw.lstrip(b"\r\n"), repairs)
    try:
        message = email.message_from_bytes(repaired, policy=_headers.HEADERS_PARSED_ONCE)
        return _build(message, raw, limits, problems=list(repairs))
    except MailRejected:
        raise
    except Exception as error:  # noqa: BLE001 - any parser failure falls back, never escapes
        first_failure = f"{type(error).__name__}: {str(error)[:200]}"
    try:
        message = email.message_from_bytes(repaired, policy=policy.compat32)
        return _build(message, raw, limits,
                      problems=[*repairs, f"strict parsing failed ({first_failure}); parsed leniently"])
    except MailRejected:
        raise
    except Exception as error:  # noqa: BLE001
        return salvage(raw, limits, f"{first_failure}; lenient: {type(error).__name__}: {str(error)[:200]}")


def _build(message: Message, raw: bytes, limits: Limits, problems: list[str]) -> ParsedMail:
    headers = Headers(message, problems)
    if not headers.names:
        raise MailRejected("no mail headers found")

    subject = headers.text("subject")
    sender = _sender(headers, problems)
    message_id = normalize_message_id(headers.first_raw("message-id"))
    if headers.first_raw("message-id") and message_id is None:
        problems.append("Message-ID is malformed and was ignored")

    body = BodyCollector(limits, problems)
    body.walk(message, depth=0)
    body.warn_about_defects(message)

    html_source = "\n".join(body.html_parts)
    html = truncate(sanitize_html(html_source), limits.text_bytes, problems, "HTML") if html_source else ""
    text = "\n\n".join(part for part in body.text_parts if part.strip())
    if not text.strip() and html:
        text = html_to_text(html)
    if not text.strip() and body.tnef_text:
        text = "\n\n".join(body.tnef_text)
    if not text.strip() and body.tnef_html:
        text = html_to_text(sanitize_html("\n".join(body.tnef_html)))
    if not text.strip():
        text = "\n\n".join(a.summary for a in body.attachments if a.summary)
    text = truncate(clean_text(text, problems), limits.text_bytes, problems, "body")
    for forwarded in body.forwarded:
        text += _forwarded_block(forwarded)
    split = split_reply(text)

    automatic = detect_automatic_mail(
        headers.first_values(), subject=subject, from_email=sender.email if sender else ""
    )
    bounce = None
    if (automatic and automatic.kind == AutoKind.BOUNCE) or content_type_of(message) == "multipart/report":
        bounce = read_bounce(message, headers, text, is_bounce=bool(automatic and automatic.kind == AutoKind.BOUNCE))
    date = parse_date(headers.first_raw("date"), problems)
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
        in_reply_to=tuple(message_id_list(headers.first_raw("in-reply-to"))),
        references=tuple(message_id_list(" ".join(headers.all_raw("references")))),
        text=text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        html=html,
        attachments=tuple(body.attachments),
        forwarded=tuple(body.forwarded),
        auto=automatic.kind if automatic else None,
        auto_reason=automatic.reason if automatic else None,
        language_hint=language(headers.first_raw("content-language") or body.language),
        problems=tuple(dict.fromkeys(problems)),
        bounce=bounce,
    )


def _sender(headers: Headers, problems: list[str]):
    found = headers.addresses("from")
    if found:
        return found[0]
    written = headers.first_raw("from")
    why = "is missing" if written is None else "is empty" if not written.strip() else "has no usable address"
    for name in SENDER_FALLBACKS:
        found = headers.addresses(name)
        if found:
            problems.append(f"From {why}; the sender was taken from {name.title()} ({found[0].email})")
            return found[0]
    return None


def _forwarded_block(forwarded: ForwardedMail) -> str:
    sender = f"{forwarded.from_name} <{forwarded.from_email}>" if forwarded.from_name else (forwarded.from_email or "")
    date = forwarded.date.isoformat() if forwarded.date else ""
    return (
        "\n\n---------- Forwarded message ---------\n"
        f"From: {sender}\nDate: {date}\nSubject: {forwarded.subject}\n\n{forwarded.text}"
    )


def _content_hash(headers: Headers, text: str, attachments: list[Attachment]) -> str:
    """Stable across re-deliveries: ignores Received/Delivered-To and other transport headers."""
    digest = hashlib.sha256()
    for name in ("from", "to", "date", "subject"):
        digest.update(clean_header(decode_words(headers.first_raw(name) or "")).encode("utf-8", "replace"))
        digest.update(b"\x1f")
    digest.update(text.encode("utf-8", "replace"))
    for attachment in attachments:
        digest.update(b"\x1e" + attachment.filename.encode("utf-8", "replace") + str(attachment.size).encode())
    return digest.hexdigest()
