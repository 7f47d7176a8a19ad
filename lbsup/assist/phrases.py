"""The guardrails' phrase tables (``guardrail_phrases.yaml``), matched ignoring case and accents.

Text is folded character by character (case folded, accents dropped, runs of white space made
one space, typographic apostrophes and dashes made plain) while remembering where each folded
character came from, so a match in the folded text points back at the words as written.
Plain ASCII text (most replies) is only lowercased, so positions stay as they are.  Each
(language, kind) table is one RE2 pattern, its words joined by any white space: matching time
is linear in the text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import re2
import yaml

from lbsup.assist.re2_options import re2_options

KINDS = ("commitment", "admission")
_PLAIN = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-"}
_PLAIN_TABLE = str.maketrans(_PLAIN)
_RE2_OPTIONS = re2_options()


@dataclass(frozen=True)
class PhraseMatch:
    start: int
    end: int
    text: str
    language: str


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    char = _PLAIN.get(char, char)
    return "".join(c for c in unicodedata.normalize("NFKD", char.casefold()) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lowercase, accent-free text with single spaces: "Rückerstattung  ÜBER" -> "ruckerstattung uber"."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.translate(_PLAIN_TABLE).casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def fold_with_origin(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the character it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isspace():
            if folded and folded[-1] != " ":
                folded.append(" ")
                origin.append(index)
            continue
        for piece in _fold_char(char):
            folded.append(piece)
            origin.append(index)
    return "".join(folded), origin


def _pattern(phrases: list[str], where: str) -> "re2._Regexp":
    alternatives = []
    for phrase in phrases:
        phrase = str(phrase)
        stem = phrase.endswith("*")
        words = phrase.rstrip("*")
        if not words or fold(words) != words or "*" in words:
            raise ValueError(f"{where}: '{phrase}' must be lowercase, without accents, '*' only at the end")
        alternatives.append(r"\s+".join(re2.escape(w) for w in words.split(" ")) + (r"\w*" if stem else ""))
    # RE2 takes the first alternative that matches: longer phrases first, so "free of charge" beats "free".
    alternatives.sort(key=len, reverse=True)
    return re2.compile(r"\b(?:" + "|".join(alternatives) + r")\b", _RE2_OPTIONS)


def _load(path: Path) -> dict[str, dict[str, "re2._Regexp"]]:
    tables = yaml.safe_load(path.read_text(encoding="utf-8"))
    compiled: dict[str, dict[str, re2._Regexp]] = {}
    for language, kinds in tables.items():
        if set(kinds) != set(KINDS):
            raise ValueError(f"{path.name}: {language} needs exactly the kinds {', '.join(KINDS)}")
        compiled[language] = {kind: _pattern(kinds[kind], f"{path.name}: {language}.{kind}") for kind in KINDS}
    return compiled


TABLES = _load(Path(__file__).with_name("guardrail_phrases.yaml"))
LANGUAGES = tuple(TABLES)


def find_phrases(text: str, kind: str, languages: tuple[str, ...]) -> list[PhraseMatch]:
    """Every phrase of `kind` from the tables of `languages`, as spans of the original text, left to right."""
    if text.isascii():  # most replies: folding is lowercasing, positions stay where they are
        folded, origin = text.lower(), None
    else:
        folded, origin = fold_with_origin(text)
    found: list[PhraseMatch] = []
    for language in languages:
        for match in TABLES[language][kind].finditer(folded):
            start, end = match.span() if origin is None else (origin[match.start()], origin[match.end() - 1] + 1)
            found.append(PhraseMatch(start, end, text[start:end], language))
    found.sort(key=lambda m: (m.start, -m.end))
    kept: list[PhraseMatch] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:  # the same words in two languages count once
            kept.append(match)
    return kept
