"""What parse_message returns, and the limits it works within."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lbsup.intake.autoreply import AutoKind

DEFAULT_MAX_TEXT_BYTES = 1_000_000
DEFAULT_MAX_ATTACHMENT_BYTES = 25_000_000
DEFAULT_MAX_ATTACHMENTS = 50
MAX_MIME_DEPTH = 20
MAX_MIME_PARTS = 500
MAX_HEADER_CHARS = 4_000
# Header values up to this long are parsed once per process (an LRU); longer ones every time, so
# hostile mail cannot fill the caches with huge values.
CACHED_HEADER_CHARS = 1_000


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
class Bounce:
    """A delivery report about a message we sent: which one, to whom, and what went wrong."""

    original_message_id: str | None
    recipient: str | None
    status: str | None  # "5.2.2"
    action: str | None  # "failed", "delayed", …
    diagnostic: str | None  # one line, at most 300 characters


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
    bounce: Bounce | None = None

    @property
    def routing_recipients(self) -> tuple[str, ...]:
        """Every address the message was delivered to, most specific first, without repeats."""
        seen: dict[str, None] = {}
        for address in (*self.x_original_to, *self.delivered_to, *(a.email for a in self.to + self.cc)):
            seen.setdefault(address, None)
        return tuple(seen)


@dataclass(frozen=True)
class Limits:
    text_bytes: int
    attachment_bytes: int
    attachments: int
