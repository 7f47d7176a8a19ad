"""Address lists: split first, display names decoded after.

Decoding first let an encoded name speak for the address: ``=?utf-8?q?Linda_=3Clinda=40x.example=3E?=
<mallory@evil.example>`` read as Linda's address, and an encoded comma ("Müller, Bernd") split one
mailbox in two. What an encoded word decodes to is display text, never an address."""

from __future__ import annotations

import functools
import re
from email.utils import getaddresses

from .model import CACHED_HEADER_CHARS, MailAddress
from .text import clean_header
from .words import decode_words

# An address written without angle brackets ("Test test@example.com"). Each class excludes the
# characters around it, so a match cannot backtrack across tokens.
# Starts only where a run of address characters starts, so a long run without "@" is read once.
_BARE_ADDRESS = re.compile(r"(?<![^\s<>()\[\],;:\"@])[^\s<>()\[\],;:\"@]+@[^\s<>()\[\],;:\"@]+")


# clean_header has collapsed whitespace runs to one space, so this cannot scan a run twice
_OBSOLETE_SPACING = re.compile(r" ?([.@]) ?")


def parse_address_list(value: str) -> tuple[tuple[MailAddress, ...], tuple[str, ...]]:
    """value: the header as it came, RFC 2047 encoded words not yet decoded. Returns the mailboxes
    and notes on any repair."""
    # The same To/Cc (the support address) and From values recur from message to message, and
    # getaddresses is the slowest part of reading headers: short values are parsed once.
    return (_parse_once if len(value) <= CACHED_HEADER_CHARS else _parse)(value)


def _parse(value: str) -> tuple[tuple[MailAddress, ...], tuple[str, ...]]:
    value = clean_header(value)
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001
        pairs = []
    found = []
    notes: list[str] = []
    for name, address in pairs:
        address = address.strip().strip("<>").strip()
        if " " in address:
            # RFC 5322 obs-local-part / obs-domain: "jdoe@machine. example" is jdoe@machine.example
            joined = _OBSOLETE_SPACING.sub(r"\1", address)
            if " " not in joined and _usable(joined):
                notes.append(f"address with obsolete spacing read as {joined.lower()}")
                address = joined
        if " " in address and "<" not in address:
            for bare in _bare_mailboxes(address):
                notes.append(f"address without angle brackets read as {bare.email}")
                found.append(bare)
            continue
        if not _usable(address):
            continue
        local, _, domain = address.rpartition("@")
        found.append(MailAddress(email=f"{local}@{domain}".lower(), name=display_name(name)))
    if not found and "@" in value:
        # getaddresses gives up on the whole list when one mailbox lacks its brackets
        for chunk in value.split(","):
            for bare in _bare_mailboxes(chunk.strip()):
                notes.append(f"address without angle brackets read as {bare.email}")
                found.append(bare)
    return tuple(found), tuple(notes)


def _usable(address: str) -> bool:
    # an encoded word is not allowed in an address (RFC 2047 section 5)
    return "@" in address and " " not in address and "=?" not in address and not address.startswith("@")


def _bare_mailboxes(text: str) -> list[MailAddress]:
    """``Big Bug bb@bug.com``: the address-shaped word is the address, the other words the name.
    Several address-shaped words are several mailboxes: none of them is a name."""
    matches = [m for m in _BARE_ADDRESS.finditer(text) if _usable(m.group(0).strip(".")) and
               m.group(0).strip(".").rpartition("@")[2]]
    if len(matches) != 1:
        return [MailAddress(email=m.group(0).strip(".").lower()) for m in matches]
    match = matches[0]
    name = (text[:match.start()] + text[match.end():]).strip()
    return [MailAddress(email=match.group(0).strip(".").lower(), name=display_name(name))]


def display_name(name: str) -> str:
    return clean_header(decode_words(name)).strip('"\' ')


_parse_once = functools.lru_cache(maxsize=4096)(_parse)
