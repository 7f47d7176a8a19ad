"""What the assistant proposes for CRM note fields and qualification answers (no Django).

Every proposed value says where it came from, so the representative reviewing it
can tell a fact from the ticket apart from a guess read out of the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from lbsup.assist.drafts import (
    FIELD_CUES,  # the cues missing_questions() uses: one notion of "answered"
)
from lbsup.assist.playbook import Category

MAX_VALUE = 500


@dataclass(frozen=True)
class NoteFacts:
    date: str
    channel: str
    category: str
    subject: str
    summary: str
    details: tuple[tuple[str, str], ...]  # (kind, normalized value)
    outcome: str
    next_steps: tuple[str, ...]
    owner: str
    contact_name: str
    contact_email: str
    team: str
    priority: str
    escalation: str
    answers: dict[str, str]  # qualification answers found in the messages


@dataclass(frozen=True)
class NoteField:
    name: str
    proposed: str
    source: str  # "ticket", "triage", "message", or "" when a person must fill it in

    def to_dict(self) -> dict:
        return {"name": self.name, "proposed": self.proposed, "value": self.proposed, "source": self.source,
                "reviewed": False}


def _words(name: str) -> set[str]:
    return set(name.lower().replace("-", "_").split("_"))


def propose_field(name: str, facts: NoteFacts) -> NoteField:
    words = _words(name)
    direct = {
        "date": (facts.date, "ticket"), "channel": (facts.channel, "ticket"), "category": (facts.category, "ticket"),
        "subject": (facts.subject, "ticket"), "summary": (facts.summary, "triage"),
        "outcome": (facts.outcome, "ticket"), "owner": (facts.owner, "ticket"),
        "representative": (facts.owner, "ticket"), "agent": (facts.owner, "ticket"),
        "team": (facts.team, "ticket"), "priority": (facts.priority, "ticket"),
        "escalation": (facts.escalation or "none", "ticket"),
        "contact": (_contact(facts), "ticket"), "customer": (_contact(facts), "ticket"),
        "email": (facts.contact_email, "ticket"),
        "details": ("; ".join(f"{kind.replace('_', ' ')}: {value}" for kind, value in facts.details), "triage"),
        "next_step": (facts.next_steps[0] if facts.next_steps else "", "triage"),
        "next_steps": ("; ".join(facts.next_steps), "triage"),
    }
    key = name.lower()
    if key in direct:
        value, source = direct[key]
        return _field(name, value, source)
    if "name" in words and words & {"patient", "customer", "contact", "client", "guest"}:
        return _field(name, facts.contact_name, "ticket")
    if name in facts.answers:
        return _field(name, facts.answers[name], "message")
    for kind, value in facts.details:
        if kind == key or _words(kind) & words - {"name", "number"}:
            return _field(name, value, "triage")
    return NoteField(name, "", "")


def _field(name: str, value: str, source: str) -> NoteField:
    value = (value or "").strip()[:MAX_VALUE]
    return NoteField(name, value, source if value else "")


def _contact(facts: NoteFacts) -> str:
    if facts.contact_name and facts.contact_email:
        return f"{facts.contact_name} <{facts.contact_email}>"
    return facts.contact_name or facts.contact_email


def propose_note(field_names: Sequence[str], facts: NoteFacts) -> list[NoteField]:
    return [propose_field(name, facts) for name in field_names]


def answers_for(field_names: Sequence[str], text: str, details: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """Qualification-style answers: (kind, normalized, source) details first, else the sentence a cue matched in."""
    found = {}
    for name in field_names:
        words = _words(name)
        for cue_words, detail_kinds, pattern in FIELD_CUES:
            if not words & cue_words:
                continue
            detail = next((value for kind, value, source in details if kind in detail_kinds and source != "sender"),
                          None)
            if detail:
                found[name] = detail
                break
            match = pattern.search(text) if pattern is not None else None
            if match:
                found[name] = _sentence_around(text, match.start(), match.end())
                break
    return found


def qualification_answers(category: Category, text: str, details: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    return answers_for([q.field for q in category.qualification], text, details)


_SENTENCE_END = re.compile(r"[.!?\n]")


def _sentence_around(text: str, start: int, end: int, limit: int = 160) -> str:
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = _SENTENCE_END.search(text, end)
    right = right_match.start() + 1 if right_match else len(text)
    sentence = " ".join(text[left:right].split())
    return sentence if len(sentence) <= limit else sentence[:limit - 1] + "…"
