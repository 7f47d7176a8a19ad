"""Split a reply into what the sender just wrote, the quoted history and the signature.

Recognises the quote headers of the common clients (Outlook's "From: … Sent: …"
block and "-----Original Message-----", Gmail's and Apple Mail's "On … wrote:",
the same in Spanish, German, French, Italian, Dutch, Portuguese, Polish and
Swedish), forwarded-message markers and ``>``-quoted lines, including replies
written between quoted lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ReplySplit:
    new_text: str
    quoted_text: str
    signature: str


_SEPARATOR_LINE = re.compile(
    # Possessive: two optional runs of whitespace side by side would otherwise be tried at every
    # split point, quadratic in a line of spaces.
    r"^\s*+(-{2,}|_{2,})?+\s*+("
    r"original message|ursprüngliche nachricht|originalnachricht|mensaje original|"
    r"message d'origine|messaggio originale|oorspronkelijk bericht|mensagem original|"
    r"forwarded message|weitergeleitete nachricht|mensaje reenviado|message transféré"
    r")\s*+(-{2,}|_{2,})?+\s*$",
    re.IGNORECASE,
)
_APPLE_FORWARD = re.compile(r"^\s*(begin forwarded message|anfang der weitergeleiteten nachricht)\s*:\s*$", re.I)
_OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")

_ATTRIBUTION_VERB = re.compile(
    r"(\bwrote|\bwrites|\bschrieb|\bescribió|\bescribio|\ba écrit|\ba ecrit|\bha scritto|\bschreef|"
    r"\bescreveu|\bpisze|\bnapisał|\bskrev|\bkirjoitti|написал)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(
    r"^\s*(on|am|el|le|il|op|em|w dniu|den|dne|в)\s", re.IGNORECASE
)

_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de|da|van|från|fra|od|от)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_FOLLOWING = re.compile(
    r"^\s*\*?(sent|date|to|subject|cc|gesendet|datum|an|betreff|enviado|fecha|para|asunto|"
    r"envoyé|à|objet|inviato|data|a|oggetto|verzonden|aan|onderwerp|skickat|till|ämne)\s*:",
    re.IGNORECASE,
)

_SIGNATURE_DELIMITER = re.compile(r"^-- ?$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my \w+|sent from (outlook|mail) for \w+|get outlook for \w+|"
    r"enviado desde mi \w+|von meinem \w+ gesendet|envoyé de mon \w+|inviato da \w+)",
    re.IGNORECASE,
)


def split_reply(text: str) -> ReplySplit:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_header_index(lines)
    if start is not None:
        new_lines, quoted_lines = lines[:start], lines[start:]
    else:
        new_lines, quoted_lines = _split_angle_quotes(lines)
    new_lines, signature_lines = _split_signature(new_lines)
    return ReplySplit(
        new_text=_join(new_lines),
        quoted_text=_join(quoted_lines),
        signature=_join(signature_lines),
    )


def _quote_header_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _SEPARATOR_LINE.match(stripped) or _APPLE_FORWARD.match(stripped):
            return index
        if _OUTLOOK_RULE.match(stripped) and _is_header_block(lines, index + 1):
            return index
        if _HEADER_FROM.match(stripped) and _is_header_block(lines, index):
            return index
        attribution = _attribution_start(lines, index)
        if attribution is not None:
            return attribution
    return None


def _is_header_block(lines: list[str], index: int) -> bool:
    """True when a "From:" line is followed by at least one more mail header line."""
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index >= len(lines) or not _HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()]
    return any(_HEADER_FOLLOWING.match(line) for line in following[:3])


def _attribution_start(lines: list[str], index: int) -> int | None:
    """Index of an "On <date>, <person> wrote:" line, which clients wrap over up to 3 lines."""
    if not _ATTRIBUTION_START.match(lines[index]):
        return None
    joined = ""
    for offset in range(3):
        if index + offset >= len(lines):
            break
        joined = f"{joined} {lines[index + offset].strip()}".strip()
        if len(joined) > 400:
            return None
        # German puts the sender after the verb: "Am …, schrieb Ana <a@x>:"
        if joined.endswith(":") and _ATTRIBUTION_VERB.search(joined):
            return index
    return None


def _split_angle_quotes(lines: list[str]) -> tuple[list[str], list[str]]:
    """Keep every unquoted line as new text, so inline answers between quotes survive."""
    if not any(line.lstrip().startswith(">") for line in lines):
        return lines, []
    new_lines, quoted_lines = [], []
    for line in lines:
        (quoted_lines if line.lstrip().startswith(">") else new_lines).append(line)
    return new_lines, quoted_lines


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for index in range(len(lines) - 1, -1, -1):
        if _SIGNATURE_DELIMITER.match(lines[index]):
            return lines[:index], lines[index + 1 :]
    content = [index for index, line in enumerate(lines) if line.strip()]
    if content and _MOBILE_SIGNATURE.match(lines[content[-1]]):
        return lines[: content[-1]], lines[content[-1] :]
    return lines, []


def _join(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip("\n").strip()
