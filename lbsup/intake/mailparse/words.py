"""RFC 2047 encoded words, decoded with the charset table bodies use."""

from __future__ import annotations

import binascii
import re

from .charsets import decode_bytes

ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_BASE64_JUNK = re.compile(r"[^A-Za-z0-9+/]")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    data = text.encode("utf-8", "surrogateescape")
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    clean = _BASE64_JUNK.sub("", text)
    if len(clean) % 4 == 1:
        clean = clean[:-1]  # a stray character; the rest still decodes
    try:
        return binascii.a2b_base64(clean + "=" * (-len(clean) % 4))
    except binascii.Error:
        return None


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words with the same charset table as bodies. Adjacent words of one
    charset are joined before decoding: senders split a multibyte character across two words."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: bytes = b""
    pending_charset = ""
    position = 0

    def flush():
        nonlocal pending, pending_charset
        if pending_charset:
            out.append(decode_bytes(pending, pending_charset, problems=None)[0])
        pending, pending_charset = b"", ""

    for match in ENCODED_WORD.finditer(value):
        gap = value[position:match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            continue  # left as written: it is included with the next gap
        if gap and not (pending_charset and gap.isspace()):
            flush()
            out.append(gap)
        charset = match.group(1).lower()
        if pending_charset and charset != pending_charset:
            flush()
        pending_charset = charset
        pending += data
        position = match.end()
    flush()
    out.append(value[position:])
    return "".join(out)
