"""winmail.dat (application/ms-tnef): Outlook's wrapper around the real attachments and body."""

from __future__ import annotations

from dataclasses import dataclass

TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")


def is_tnef(content_type: str, filename: str, data: bytes) -> bool:
    if content_type in TNEF_TYPES or filename.lower() == "winmail.dat":
        return data[:4] == b"\x78\x9f\x3e\x22" or content_type in TNEF_TYPES
    return False


@dataclass(frozen=True)
class Unpacked:
    attachments: tuple[tuple[str, bytes], ...]
    text: str
    html: str


def unpack(data: bytes) -> Unpacked:
    """Raises ValueError with a reason a person can read when the blob cannot be unpacked."""
    try:
        from tnefparse import TNEF
    except ImportError as error:  # pragma: no cover - a dependency
        raise ValueError("tnefparse is not installed") from error
    try:
        tnef = TNEF(data, do_checksum=False)
        files = []
        for attachment in tnef.attachments:
            content = attachment.data if isinstance(attachment.data, bytes) else b""
            name = attachment.long_filename() or attachment.name or ""
            if isinstance(name, bytes):
                name = name.decode("cp1252", "replace")
            files.append((str(name).rstrip("\x00"), content))
        text = _as_text(tnef.body)
        html = _as_text(tnef.htmlbody)
    except Exception as error:  # noqa: BLE001 - the library raises whatever a bad blob provokes
        raise ValueError(f"{type(error).__name__}: {str(error)[:150]}") from error
    if not files and not text.strip() and not html.strip():
        raise ValueError("it holds no attachment and no text")
    return Unpacked(tuple(files), text, html)


def _as_text(value) -> str:
    if not value:
        return ""
    if isinstance(value, bytes):
        for codec in ("utf-8", "cp1252"):
            try:
                return value.decode(codec).rstrip("\x00")
            except UnicodeDecodeError:
                continue
        return value.decode("latin-1").rstrip("\x00")
    return str(value).rstrip("\x00")
