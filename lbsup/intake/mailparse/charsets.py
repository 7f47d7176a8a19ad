"""Bytes to text: declared charsets, the supersets clients really use, and guessing when needed."""

from __future__ import annotations

import codecs
import functools
import re

# Mail clients label text with a charset whose superset they actually used
# (the WHATWG encoding standard makes the same substitutions). Headers and bodies share it:
# a Subject in "gb2312" is written by the same client as its body.
CHARSET_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    # Outlook and Japanese webmail write NEC row 13 (circled digits, ㈱) and IBM extension
    # characters inside ISO-2022-JP; Python's iso2022_jp refuses them. Microsoft calls the
    # superset CP50221.
    "iso-2022-jp": "cp50221",
    "csiso2022jp": "cp50221",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "cp1252",
}
FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")


def _jis_to_sjis(first: int, second: int) -> bytes:
    if first & 1:
        low = second + 0x1F
        if low >= 0x7F:
            low += 1
    else:
        low = second + 0x7E
    high = ((first - 0x21) >> 1) + 0x81
    if high > 0x9F:
        high += 0x40
    return bytes((high, low))


def decode_cp50221(data: bytes, errors: str = "strict") -> tuple[str, int]:
    """ISO-2022-JP read through CP932: every JIS X 0208 pair maps to one Shift_JIS pair, and CP932
    holds the NEC and IBM extensions that plain ISO-2022-JP lacks."""
    data = bytes(data)
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte == 0x1B:
            seq = data[i + 1:i + 3]
            if seq in (b"(B", b"(J"):
                mode = "ascii"
            elif seq in (b"$B", b"$@"):
                mode = "jis"
            elif seq == b"(I":
                mode = "kana"
            elif data[i + 1:i + 4] == b"$(D" or seq[:1] == b"$":
                # JIS X 0212 and friends have no CP932 form
                raise UnicodeDecodeError("cp50221", data, i, i + 3, "unsupported designation")
            else:
                out.append(byte)
                i += 1
                continue
            i += 4 if data[i + 1:i + 3] == b"$(" else 3
            continue
        if byte == 0x0E:  # SO: CP50222's way of saying half-width katakana
            mode, i = "kana", i + 1
            continue
        if byte == 0x0F:
            mode, i = "ascii", i + 1
            continue
        if byte in (0x0A, 0x0D):
            # a line break returns to ASCII in practice even when the sender forgot ESC ( B
            out.append(byte)
            i += 1
            continue
        if mode == "jis" and 0x21 <= byte <= 0x7E and i + 1 < n and 0x21 <= data[i + 1] <= 0x7E:
            out += _jis_to_sjis(byte, data[i + 1])
            i += 2
            continue
        if mode == "kana" and 0x21 <= byte <= 0x5F:
            out.append(byte + 0x80)
            i += 1
            continue
        if byte >= 0x80:
            raise UnicodeDecodeError("cp50221", data, i, i + 1, "8-bit byte in a 7-bit charset")
        out.append(byte)
        i += 1
    return out.decode("cp932", errors), n


def _encode_cp50221(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.encode(text, "iso2022_jp", errors), len(text)


_CP50221 = codecs.CodecInfo(name="cp50221", encode=_encode_cp50221, decode=decode_cp50221)


@functools.lru_cache(maxsize=256)
def lookup(charset: str | None) -> codecs.CodecInfo | None:
    """The codec for a declared charset, after the superset table; None when Python has none."""
    declared = (charset or "").strip().strip("\"'").lower()
    if not declared:
        return None
    name = CHARSET_SUPERSETS.get(declared, declared)
    if name == "cp50221":
        return _CP50221
    try:
        return codecs.lookup(name)
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None, problems: list[str] | None) -> tuple[str, str]:
    """Decode ``data`` as its declared charset if that works, else the first fallback that does."""
    declared = (charset or "").strip().strip("\"'").lower()
    codec = lookup(declared) if declared else None
    if declared and codec is None and problems is not None:
        problems.append(f"unknown charset {declared[:40]!r}, decoded by guessing")
    if codec:
        try:
            return codec.decode(data)[0], codec.name
        except (UnicodeDecodeError, ValueError):
            pass
    for fallback in FALLBACK_CHARSETS:
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        if problems is not None and codec:
            problems.append(f"text is not valid {declared[:40]}, decoded as {fallback}")
        return text, fallback
    return data.decode("latin-1"), "latin-1"  # unreachable: latin-1 decodes every byte


def decode_8bit_header(data: bytes, declared: str | None) -> tuple[str, str]:
    """Raw 8-bit header bytes (RFC 6532 allows only UTF-8; others use the body's charset).

    Valid UTF-8 wins: a non-ASCII run is almost never valid UTF-8 by accident, while a
    single-byte declared charset (latin-1, cp1252) decodes any bytes and would garble it. Then
    the message's declared charset, then detection; returns the text and how it was read."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = lookup(declared)
    if codec is not None:
        try:
            return codec.decode(data)[0], f"{codec.name} (the message's declared charset)"
        except (UnicodeDecodeError, ValueError):
            pass
    detected = detect(data)
    if detected is not None:
        return detected[0], f"{detected[1]} (detected)"
    try:
        return data.decode("cp1252"), "cp1252 (guessed)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1 (guessed)"


def detect(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best reading of ``data``; only called for bytes no declared or UTF-8
    reading accepts, since detection costs a hundred times a decode."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency; degrade to the cp1252 guess
        return None
    try:
        best = from_bytes(data[:4_000]).best()
    except Exception:  # noqa: BLE001 - a detector failure is a failed guess, not a failed mail
        return None
    if best is None:
        return None
    codec = lookup(best.encoding)
    if codec is None:
        return None
    try:
        return codec.decode(data)[0], codec.name
    except (UnicodeDecodeError, ValueError):
        return None


SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")


def unsurrogate(text: str, declared: str | None = None) -> str:
    """The email package hands raw 8-bit header bytes over as surrogate escapes."""
    if not SURROGATE_ESCAPE.search(text):
        return text
    return decode_8bit_header(text.encode("utf-8", "surrogateescape"), declared)[0]
