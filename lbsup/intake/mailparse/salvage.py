"""The last resort when no MIME parser copes: headers up to the first blank line, the rest as text."""

from __future__ import annotations

import hashlib

from lbsup.intake.autoreply import detect_automatic_mail
from lbsup.intake.mail_quoting import split_reply

from .addresses import parse_address_list
from .fields import language, message_id_list, normalize_message_id, parse_date
from .headers import repair_header_block
from .model import Limits, ParsedMail
from .text import clean_header, clean_text, truncate
from .words import decode_words


def salvage(raw: bytes, limits: Limits, failure: str) -> ParsedMail:
    problems = [f"MIME structure could not be parsed ({failure}); body kept as raw text"]
    normalized = repair_header_block(raw.replace(b"\r\n", b"\n"), problems)
    head, _, rest = normalized.partition(b"\n\n")
    fields: dict[str, str] = {}
    for line in head.replace(b"\n ", b" ").replace(b"\n\t", b" ").split(b"\n"):
        name, sep, value = line.partition(b":")
        if sep and name and not name[:1].isspace():
            key = name.decode("ascii", "replace").strip().lower()
            fields.setdefault(key, value.decode("utf-8", "replace").strip())
    # Addresses are parsed from the raw values (see addresses.py); the rest reads decoded.
    decoded = {key: decode_words(value) for key, value in fields.items()}
    text = truncate(clean_text(rest.decode("utf-8", "replace"), problems), limits.text_bytes, problems, "body")

    def addresses(name):
        return parse_address_list(fields.get(name, ""))[0]

    senders = addresses("from") or addresses("reply-to") or addresses("sender") or addresses("return-path")
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
        subject=clean_header(decoded.get("subject", "")),
        from_email=senders[0].email if senders else None,
        from_name=senders[0].name if senders else "",
        to=addresses("to"),
        cc=addresses("cc"),
        reply_to=addresses("reply-to"),
        delivered_to=tuple(a.email for a in addresses("delivered-to")),
        x_original_to=tuple(a.email for a in addresses("x-original-to")),
        date=parse_date(fields.get("date"), problems),
        in_reply_to=tuple(message_id_list(fields.get("in-reply-to"))),
        references=tuple(message_id_list(fields.get("references"))),
        text=text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        html="",
        attachments=(),
        forwarded=(),
        auto=automatic.kind if automatic else None,
        auto_reason=automatic.reason if automatic else None,
        language_hint=language(fields.get("content-language")),
        problems=tuple(dict.fromkeys(problems)),
    )
