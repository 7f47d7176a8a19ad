"""Turn raw RFC 5322 bytes into a ParsedMail, whatever the bytes are.

``parse_message`` never raises except ``MailRejected`` for input that is not mail at all.
Everything it had to guess, repair or cut is listed in ``problems`` so a representative (and the
audit trail) can see why the text looks the way it does.

The steps, in the order a message meets them:

- ``headers``: the header block repaired before parsing, then read without the email package's
  lossy decoding;
- ``charsets``: declared charsets, their real-world supersets, detection as a last resort;
- ``addresses``: address lists split before display names are decoded;
- ``body``: which part is the text, which the HTML, which attachments;
- ``attachments`` (with ``tnef``): transfer encodings, names for unnamed parts, uuencoded files;
- ``calendar``, ``bounce``: one-line invitations and delivery reports;
- ``salvage``: the last resort when no MIME parser copes.
"""

from lbsup.intake.autoreply import AutoKind

from .calendar import summarize_calendar
from .charsets import CHARSET_SUPERSETS
from .fields import normalize_message_id
from .headers import HEADERS_PARSED_ONCE
from .model import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    DEFAULT_MAX_ATTACHMENTS,
    DEFAULT_MAX_TEXT_BYTES,
    MAX_HEADER_CHARS,
    MAX_MIME_DEPTH,
    MAX_MIME_PARTS,
    Attachment,
    Bounce,
    ForwardedMail,
    Limits,
    MailAddress,
    MailRejected,
    ParsedMail,
)
from .parse import parse_message
from .salvage import salvage

# The names the single-module parser had; tests and benchmarks reach for these.
_Limits = Limits
_salvage = salvage

__all__ = [
    "Attachment",
    "AutoKind",
    "Bounce",
    "ForwardedMail",
    "MailAddress",
    "MailRejected",
    "ParsedMail",
    "normalize_message_id",
    "parse_message",
    "summarize_calendar",
]
