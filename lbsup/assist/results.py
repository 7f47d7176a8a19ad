"""Typed inputs and results of the triage engine.

The JSON names produced by ``TriageResult.to_dict()`` are a stable contract with
the Django side and the UI: rename a field here only together with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Urgency = Literal["low", "normal", "high", "urgent"]
Direction = Literal["inbound", "outbound"]

UNSURE = "unsure"
URGENCY_LEVELS: tuple[str, ...] = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class Sender:
    email: str = ""
    name: str = ""


@dataclass(frozen=True)
class ThreadMessage:
    direction: Direction
    text: str
    sent_at: datetime | None = None


@dataclass(frozen=True)
class MessageInput:
    """One customer message.  `quoted` is the quoted earlier mail cut from `body` by the intake;
    `attachments` are (file name, text) of its readable attachments: both only scanned for injection."""

    subject: str
    body: str
    sender: Sender
    received_at: datetime
    thread: tuple[ThreadMessage, ...] = ()
    quoted: str = ""
    attachments: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HistoryItem:
    """An earlier ticket of the same contact."""

    category: str
    opened_at: datetime


@dataclass(frozen=True)
class TriageContext:
    vip: bool = False
    sensitive: bool = False
    history: tuple[HistoryItem, ...] = ()


@dataclass(frozen=True)
class Signal:
    """A 0–1 score and the words that produced it."""

    score: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    """Something a representative should know about the message itself."""

    flag: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class Detail:
    kind: str
    value: str
    normalized: str
    span: tuple[int, int]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "normalized": self.normalized,
            "span": list(self.span),
            "source": self.source,
        }


@dataclass(frozen=True)
class EscalationReason:
    rule: str
    evidence: tuple[str, ...]
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "evidence": list(self.evidence), "description": self.description}


@dataclass(frozen=True)
class Alternative:
    category: str
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "probability": round(self.probability, 4)}


@dataclass(frozen=True)
class AutoReply:
    """Whether the inbound message itself is an automatic reply (out of office, bounce)."""

    detected: bool
    reason: str = ""
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"detected": self.detected, "reason": self.reason, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class CategoryEvidence:
    model: str
    words: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "words": list(self.words)}


@dataclass(frozen=True)
class Sla:
    """Targets in business hours for the ticket's priority."""

    first_response: float
    next_response: float
    resolution: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_response": self.first_response,
            "next_response": self.next_response,
            "resolution": self.resolution,
        }


@dataclass(frozen=True)
class TriageResult:
    category: str
    confidence: float
    alternatives: tuple[Alternative, ...]
    complaint: float
    frustration: float
    urgency: Urgency
    language: str
    details: tuple[Detail, ...]
    escalate: bool
    escalation_reasons: tuple[EscalationReason, ...]
    team: str
    next_steps: tuple[str, ...]
    priority: Urgency
    auto_reply: AutoReply
    category_evidence: CategoryEvidence
    model_version: str
    playbook_version: str
    handling: str = "review"
    sla: Sla | None = None
    signal_evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    draft: dict[str, Any] | None = None  # reply_id, text, missing, checks
    summary: dict[str, Any] | None = None

    @property
    def unsure(self) -> bool:
        return self.category == UNSURE

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 4),
            "alternatives": [a.to_dict() for a in self.alternatives],
            "complaint": round(self.complaint, 4),
            "frustration": round(self.frustration, 4),
            "urgency": self.urgency,
            "language": self.language,
            "details": [d.to_dict() for d in self.details],
            "escalate": self.escalate,
            "escalation_reasons": [r.to_dict() for r in self.escalation_reasons],
            "team": self.team,
            "next_steps": list(self.next_steps),
            "priority": self.priority,
            "handling": self.handling,
            "sla": self.sla.to_dict() if self.sla else None,
            "auto_reply": self.auto_reply.to_dict(),
            "category_evidence": self.category_evidence.to_dict(),
            "signal_evidence": {k: list(v) for k, v in self.signal_evidence.items()},
            "flags": [f.to_dict() for f in self.flags],
            "model_version": self.model_version,
            "playbook_version": self.playbook_version,
            "draft": self.draft,
            "summary": self.summary,
        }
