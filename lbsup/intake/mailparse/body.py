"""Walking the MIME tree: which parts are the text, which the HTML, which attachments."""

from __future__ import annotations

import mimetypes
import re
from email import policy
from email.message import Message

from lbsup.intake.mail_html import html_to_text, sanitize_html

from . import tnef
from .attachments import inline_uu_blocks, name_for_unnamed, part_filename, payload_bytes, safe_filename
from .calendar import summarize_calendar
from .charsets import decode_bytes
from .fields import normalize_message_id, parse_date
from .headers import Headers
from .model import MAX_MIME_DEPTH, MAX_MIME_PARTS, Attachment, ForwardedMail, Limits
from .text import clean_text, truncate


class BodyCollector:
    def __init__(self, limits: Limits, problems: list[str]):
        self.limits = limits
        self.problems = problems
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.attachments: list[Attachment] = []
        self.forwarded: list[ForwardedMail] = []
        self.language: str | None = None
        # the body Outlook put inside winmail.dat: the text only when nothing else is
        self.tnef_text: list[str] = []
        self.tnef_html: list[str] = []
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
        content_type = content_type_of(part)
        if self.language is None and depth > 0:
            self.language = _part_language(part)
        if content_type in ("message/rfc822", "message/global"):
            self._forwarded(part, depth)
            return
        if content_type.startswith("message/"):
            # delivery-status and friends: keep their text as an attachment for the record
            self._attachment(part, content_type, disposition_of(part), part_filename(part))
            return
        if content_type.startswith("multipart/") and isinstance(part.get_payload(), str):
            # no usable boundary: the parts cannot be told apart, but a person can read them
            self.problems.append(f"{content_type} without a usable boundary; its body kept as text")
            self.text_parts.append(self._plain_text(part))
            return
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                for child in children:
                    if isinstance(child, Message):
                        self.walk(child, depth + 1)
            return
        disposition = disposition_of(part)
        filename = part_filename(part)
        if content_type == "text/plain" and disposition != "attachment" and not filename:
            self.text_parts.append(self._plain_text(part))
        elif content_type == "text/html" and disposition != "attachment" and not filename:
            self.html_parts.append(self._text(part))
        else:
            self._attachment(part, content_type, disposition, filename)

    def _text(self, part: Message) -> str:
        data = payload_bytes(part)
        # Decode at most a little over the limit: the rest is cut anyway.
        cut = self.limits.text_bytes * 4 + 16
        if len(data) > cut:
            data = data[:cut]
        text, _codec = decode_bytes(data, charset_of(part), self.problems)
        return text

    def _plain_text(self, part: Message) -> str:
        text, files = inline_uu_blocks(self._text(part))
        for name, data in files:
            name = safe_filename(name, "application/octet-stream", len(self.attachments) + 1)
            self.problems.append(f"uuencoded file {name!r} in the text taken out as an attachment")
            self.add(name, _guess_type(name), data)
        return text

    def _attachment(self, part: Message, content_type: str, disposition: str | None, filename: str) -> None:
        data = payload_bytes(part)
        if tnef.is_tnef(content_type, filename, data) and self._unpacked_tnef(data):
            return
        content_id = normalize_message_id(str(part.get("content-id", "") or "")) if part.get("content-id") else None
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        summary = None
        if content_type == "text/calendar":
            calendar_text, _ = decode_bytes(data[:200_000], charset_of(part), None)
            summary = summarize_calendar(calendar_text)
        number = len(self.attachments) + 1
        if not filename.strip():
            filename = name_for_unnamed(part, content_type, number)
        self.add(safe_filename(filename, content_type, number), content_type, data, content_id=content_id,
                 inline=inline, summary=summary)

    def _unpacked_tnef(self, data: bytes) -> bool:
        try:
            unpacked = tnef.unpack(data)
        except ValueError as error:
            self.problems.append(f"winmail.dat (TNEF) could not be unpacked ({error}); kept as it came")
            return False
        for name, content in unpacked.attachments:
            self.add(safe_filename(name, "application/octet-stream", len(self.attachments) + 1),
                     _guess_type(name), content)
        if unpacked.text.strip():
            self.tnef_text.append(unpacked.text)
        if unpacked.html.strip():
            self.tnef_html.append(unpacked.html)
        self.problems.append(f"winmail.dat (TNEF) unpacked: {len(unpacked.attachments)} attachment(s)"
                             + (", and the body" if unpacked.text.strip() or unpacked.html.strip() else ""))
        return True

    def add(self, name: str, content_type: str, data: bytes, *, content_id: str | None = None,
            inline: bool = False, summary: str | None = None) -> None:
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
            self._attachment(part, "message/rfc822", disposition_of(part), part_filename(part))
            return
        inner_problems: list[str] = []
        inner_headers = Headers(inner, inner_problems)
        inner_body = BodyCollector(self.limits, inner_problems)
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
                date=parse_date(inner_headers.first_raw("date"), inner_problems),
                text=truncate(clean_text(text, inner_problems, "forwarded body"), self.limits.text_bytes,
                              inner_problems, "forwarded body"),
            )
        )
        self.attachments.extend(inner_body.attachments)
        self.problems.extend(f"forwarded message: {problem}" for problem in inner_problems)
        try:
            data = inner.as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001 - the parsed form is what matters; raw copy is a bonus
            data = b""
        name = safe_filename(f"{subject or 'forwarded'}.eml", "message/rfc822", len(self.attachments) + 1)
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


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


_CONTENT_TYPE = re.compile(r"(?<![a-z0-9!#$&^_.+-])[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")  # starts where a token starts


def content_type_of(part: Message) -> str:
    try:
        value = part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"
    return value if _CONTENT_TYPE.fullmatch(value or "") else "application/octet-stream"


def _part_language(part: Message) -> str | None:
    try:
        value = part.get("content-language")
        return str(value) if value else None
    except Exception:  # noqa: BLE001
        return None


def charset_of(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def disposition_of(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None
