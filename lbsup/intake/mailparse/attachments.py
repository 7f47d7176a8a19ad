"""Attachment bytes and names: transfer encodings the email package gets wrong, names for parts
that have none, and files hidden inside a text body."""

from __future__ import annotations

import binascii
import mimetypes
import re
import unicodedata
from email import policy
from email.message import Message

from .charsets import SURROGATE_ESCAPE, unsurrogate
from .fields import normalize_message_id
from .words import decode_words

UU_ENCODINGS = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})


def payload_bytes(part: Message) -> bytes:
    if _transfer_encoding(part) in UU_ENCODINGS:
        payload = part.get_payload()
        if isinstance(payload, str):
            # Python's uu decoding needs the begin line and returns the encoded text without it.
            return uudecode(payload.encode("utf-8", "surrogateescape").split(b"\n"))[1]
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


def _transfer_encoding(part: Message) -> str:
    try:
        return str(part.get("content-transfer-encoding", "") or "").strip().lower()
    except Exception:  # noqa: BLE001
        return ""


_UU_BEGIN = re.compile(rb"begin(?:-base64)? +[0-7]{3,4} +(\S[^\r\n]*)")


def uudecode(lines: list[bytes]) -> tuple[str, bytes]:
    """(name from the begin line or "", data). Decodes with or without the begin line; stops at
    ``end`` or the zero-length line before it."""
    out = bytearray()
    name = ""
    started = False
    for line in lines:
        line = line.rstrip(b"\r\n")
        if not started:
            begin = _UU_BEGIN.match(line)
            if begin:
                name = begin.group(1).decode("utf-8", "replace").strip()
                started = True
                continue
            if not line.strip():
                continue
            started = True  # no begin line: the first non-blank line is data
        if line.strip() in (b"end", b"`", b""):
            if line.strip() == b"end":
                break
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # encoders that pad lines with extra characters (the uu module's own workaround)
            count = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(line[:count])
            except binascii.Error:
                continue
    return name, bytes(out)


def inline_uu_blocks(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """``begin 644 name`` … ``end`` blocks in a text body: Outlook Express and old gateways send
    files that way. Returns the text without them and the files."""
    if "begin " not in text:
        return text, []
    lines = text.split("\n")
    kept: list[str] = []
    files: list[tuple[str, bytes]] = []
    index = 0
    end: int | None = -1  # the next "end" line: found once, not once per "begin" (100 KB of begins)
    while index < len(lines):
        line = lines[index]
        if line.startswith("begin ") and _UU_BEGIN.fullmatch(line.rstrip("\r").encode("utf-8", "surrogateescape")):
            if end is not None and end <= index:
                end = next((j for j in range(index + 1, len(lines)) if lines[j].strip() == "end"), None)
            if end is not None:
                block = [item.encode("latin-1", "replace") for item in lines[index:end + 1]]
                name, data = uudecode(block)
                if data:
                    files.append((name, data))
                    index = end + 1
                    continue
        kept.append(line)
        index += 1
    return "\n".join(kept), files


# Names for parts that carry none, by what they are: a person sees "delivery-status.txt", not
# "attachment-3.bin".
_NAMES_BY_TYPE = {
    "message/delivery-status": "delivery-status.txt",
    "message/global-delivery-status": "delivery-status.txt",
    "message/disposition-notification": "read-receipt.txt",
    "text/rfc822-headers": "returned-headers.txt",
    "message/rfc822-headers": "returned-headers.txt",
    "text/calendar": "invite.ics",
    "message/rfc822": "forwarded.eml",
    "message/global": "forwarded.eml",
    "application/pgp-signature": "signature.asc",
    "application/pkcs7-signature": "smime.p7s",
    "application/x-pkcs7-signature": "smime.p7s",
    "application/ms-tnef": "winmail.dat",
    "text/vcard": "contact.vcf",
    "text/x-vcard": "contact.vcf",
}
_EXTENSIONS = {
    "text/plain": ".txt",
    "image/jpeg": ".jpg",
    "image/pjpeg": ".jpg",
    "text/html": ".html",
    "application/octet-stream": ".bin",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "text/enriched": ".txt",
}
_DESCRIPTIVE = re.compile(r"[\w][\w .,()'&+-]{0,58}[\w)]", re.UNICODE)
# Content-IDs that are a hash or counter say nothing to a person ("1_0B4E2464…", "ii_18c…")
_GENERATED_ID = re.compile(r"[0-9A-Fa-f_-]{16,}|part\d[\w.]*|ii_\w+")
_HAS_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")


def extension_for(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"


def name_for_unnamed(part: Message, content_type: str, number: int) -> str:
    """From Content-Description ("Delivery report"), then the Content-ID's local part
    (<logo@x> → logo.png), then the type; ``attachment-N`` only when none of them says anything."""
    extension = extension_for(content_type)
    try:
        description = decode_words(unsurrogate(str(part.get("content-description", "") or ""))).strip()
    except Exception:  # noqa: BLE001
        description = ""
    if description and _DESCRIPTIVE.fullmatch(description) and content_type not in _NAMES_BY_TYPE:
        return description if description.lower().endswith(extension) else f"{description}{extension}"
    try:
        content_id = normalize_message_id(str(part.get("content-id", "") or "")) if part.get("content-id") else None
    except Exception:  # noqa: BLE001
        content_id = None
    if content_id:
        local = content_id.partition("@")[0] if "@" in content_id else content_id
        local = re.sub(r"[^\w.-]", "_", local)[:60].strip("._")
        if local and re.search(r"[A-Za-z]", local) and not _GENERATED_ID.fullmatch(local.partition(".")[0]):
            tail = _HAS_EXTENSION.search(local[-9:])
            return local if tail and mimetypes.guess_type(local)[0] else f"{local}{extension}"
    if content_type in _NAMES_BY_TYPE:
        return _NAMES_BY_TYPE[content_type]
    return f"attachment-{number}{extension}"


def part_filename(part: Message) -> str:
    raw = _raw_parameter(part, "content-disposition", "filename") or _raw_parameter(part, "content-type", "name")
    if SURROGATE_ESCAPE.search(raw):
        # the strict policy has already replaced these bytes with U+FFFD in get_filename()
        return decode_words(unsurrogate(raw, _charset_of(part)))
    try:
        name = str(part.get_filename() or "")
    except Exception:  # noqa: BLE001
        name = raw
    if SURROGATE_ESCAPE.search(name):
        name = unsurrogate(name, _charset_of(part))
    return decode_words(name)


def _raw_parameter(part: Message, header: str, parameter: str) -> str:
    """A parameter with raw 8-bit bytes, read from the raw header: the strict policy turns those
    into U+FFFD before anyone can pick their charset."""
    for name, value in getattr(part, "_headers", ()):
        if name.lower() != header:
            continue
        value = value if isinstance(value, str) else str(value)
        if not SURROGATE_ESCAPE.search(value):
            return ""  # get_filename() reads it right
        match = _PARAMETERS[parameter].search(value)
        if match:
            return match.group(1).strip('"')
    return ""


# Linear: the name is literal and each value class excludes its own terminator.
_PARAMETERS = {
    name: re.compile(rf'(?i)(?:^|;)[ \t\r\n]*{name}[ \t]*=[ \t]*("[^"]*"|[^;\s]*)') for name in ("filename", "name")
}


def _charset_of(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def safe_filename(name: str, content_type: str, number: int) -> str:
    """Only the last path component, without control or shell-special characters."""
    name = unsurrogate(name).replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFC", _UNSAFE_FILENAME_CHARS.sub("_", name)).strip().lstrip(".").strip()
    if not name:
        name = f"attachment-{number}{extension_for(content_type)}"
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[:190]}.{extension[:9]}" if dot and len(extension) < 10 else name[:200]
    return name
