"""Triage orchestrator: category, signals, details, escalation and routing for one message.

The engine suggests; a representative decides and sends.  Text in the message is data
only: nothing in it can change the playbook's rules (instructions aimed at an AI are
flagged as ``injection_suspected``, whether in the new text, the quoted thread or an attachment).  Work is capped (the first MAX_BODY_CHARS of the
body are analyzed, and the result says so), and input that cannot be read yields a
safe ``unsure`` result rather than an error.
"""

from __future__ import annotations

import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, Sequence

from email_reply_parser import EmailReplyParser

from lbsup.assist.details import extract_details, money_amounts
from lbsup.assist.escalation import (
    LOW_CONFIDENCE,
    EscalationInput,
    evaluate_rules,
    must_not_be_routine,
)
from lbsup.assist.injection import detect_injection
from lbsup.assist.playbook import Playbook
from lbsup.assist.results import (
    UNSURE,
    Alternative,
    CategoryEvidence,
    EscalationReason,
    Flag,
    MessageInput,
    TriageContext,
    TriageResult,
)
from lbsup.assist.routing import route
from lbsup.assist.signals import Signals, read_signals

MAX_SUBJECT_CHARS = 500
MAX_BODY_CHARS = 16_000
MAX_ALTERNATIVES = 3
# A batch is cut into chunks triaged on parallel threads: the embedding model releases the GIL,
# so one thread's model run overlaps another's Python work (bench/README.md "Triage").
BATCH_THREADS = min(4, os.cpu_count() or 1)
BATCH_CHUNK = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


class CategoryModelLike(Protocol):
    version: str

    def predict_batch(self, texts: Sequence[str]) -> list: ...


@dataclass(frozen=True)
class _Prepared:
    subject: str
    body: str
    new_text: str
    quoted: str
    flags: tuple[Flag, ...]
    readable: bool

    @property
    def model_text(self) -> str:
        return f"{self.subject}\n{self.new_text}".strip() if self.readable else ""


def triage(message: MessageInput, playbook: Playbook, model: CategoryModelLike,
           context: TriageContext | None = None) -> TriageResult:
    return triage_batch([message], playbook, model, [context])[0]


def triage_batch(messages: Sequence[MessageInput], playbook: Playbook, model: CategoryModelLike,
                 contexts: Sequence[TriageContext | None] | None = None) -> list[TriageResult]:
    """Triage many messages; results keep the input order and equal those of `triage` one by one."""
    contexts = list(contexts) if contexts is not None else [None] * len(messages)
    if len(contexts) != len(messages):
        raise ValueError("contexts must match messages one to one")
    if len(messages) <= BATCH_CHUNK or BATCH_THREADS == 1:
        return _triage_chunk(messages, playbook, model, contexts)
    starts = range(0, len(messages), BATCH_CHUNK)
    with ThreadPoolExecutor(BATCH_THREADS, thread_name_prefix="triage") as pool:
        chunks = pool.map(lambda start: _triage_chunk(messages[start:start + BATCH_CHUNK], playbook, model,
                                                      contexts[start:start + BATCH_CHUNK]), starts)
        return [result for chunk in chunks for result in chunk]


def _triage_chunk(messages: Sequence[MessageInput], playbook: Playbook, model: CategoryModelLike,
                  contexts: Sequence[TriageContext | None]) -> list[TriageResult]:
    prepared = [_prepare(m) for m in messages]
    to_classify = [p.model_text for p in prepared if p.model_text]
    predictions = iter(model.predict_batch(to_classify) if to_classify else [])
    results = []
    for message, ready, context in zip(messages, prepared, contexts):
        prediction = next(predictions) if ready.model_text else None
        results.append(_triage_one(message, ready, prediction, playbook, model, context or TriageContext()))
    return results


def _prepare(message: MessageInput) -> _Prepared:
    flags = []
    subject = _clean(message.subject or "")[:MAX_SUBJECT_CHARS]
    raw_body = message.body or ""
    if len(raw_body) > MAX_BODY_CHARS:
        flags.append(Flag("truncated", (f"analyzed the first {MAX_BODY_CHARS} of {len(raw_body)} characters",)))
    body = _clean(raw_body[:MAX_BODY_CHARS])
    try:
        parsed = EmailReplyParser.read(body)
        new_text = parsed.reply.strip()
        quoted = "\n".join(f.content for f in parsed.fragments if f.hidden or f.quoted)
    except Exception:  # a parser quirk must not lose the message: fall back to the whole body
        new_text, quoted = body.strip(), ""
    quoted = "\n".join(q for q in (quoted, _clean((message.quoted or "")[:MAX_BODY_CHARS])) if q.strip())
    if body.strip() and not new_text:
        flags.append(Flag("only_quoted_text", ("the message has no text of its own, only a quoted thread",)))
    readable = _readable(f"{subject} {new_text}")
    if not (subject.strip() or body.strip()):
        flags.append(Flag("empty_message", ("no subject and no body",)))
    elif not readable and new_text:
        flags.append(Flag("unreadable_text", ("too few letters to read: binary or encoded content",)))
    return _Prepared(subject, body, new_text, quoted, tuple(flags), readable)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return _CONTROL.sub(" ", text)


def _readable(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 2 and letters >= 0.4 * len(text.replace(" ", "").replace("\n", "") or "x")


def _earlier_unanswered(message: MessageInput) -> int:
    count = 0
    for earlier in reversed(message.thread):
        if earlier.direction == "outbound":
            break
        count += 1
    return count


def _triage_one(message: MessageInput, ready: _Prepared, prediction, playbook: Playbook, model,
                context: TriageContext) -> TriageResult:
    flags = list(ready.flags)
    signals: Signals = read_signals(ready.subject, ready.new_text, message.sender.email,
                                    _earlier_unanswered(message))
    # One detector for triage and drafting: the attack corpus in tests/fixtures/injection trains its cues.
    injection = detect_injection(f"{ready.subject}\n{ready.new_text}", quoted=ready.quoted,
                                 attachments=message.attachments)
    if injection:
        flags.append(Flag("injection_suspected", injection))

    known = {c.slug for c in playbook.categories}
    category, confidence, alternatives, words = UNSURE, 0.0, (), ()
    if prediction is not None:
        scores = [s for s in prediction.scores if s.label in known]
        if scores:
            top = scores[0]
            confidence = float(top.probability)
            alternatives = tuple(Alternative(s.label, float(s.probability)) for s in scores[1:1 + MAX_ALTERNATIVES])
            words = tuple(prediction.evidence)
            category = top.label if confidence >= playbook.confidence_threshold else UNSURE
            if category == UNSURE:
                alternatives = (Alternative(top.label, confidence),) + alternatives[:MAX_ALTERNATIVES - 1]
        else:
            flags.append(Flag("model_labels_unknown", ("the model was trained on another playbook",)))

    details = extract_details(ready.subject, ready.body, playbook, message.received_at, message.sender.name)
    facts = EscalationInput(
        text=f"{ready.subject}\n{ready.new_text}", category=category, confidence=confidence,
        complaint=signals.complaint.score, frustration=signals.frustration.score, urgency=signals.urgency,
        amounts=tuple(money_amounts(details)), received_at=message.received_at,
    )
    reasons = list(evaluate_rules(playbook, facts, context))
    if category == UNSURE:
        reasons.append(EscalationReason(
            LOW_CONFIDENCE, (f"confidence={confidence:.2f} < {playbook.confidence_threshold:.2f}",),
            "the model is not sure of the category: a person chooses"))
    escalate = any(r.rule != LOW_CONFIDENCE for r in reasons)

    sensitive_category = category != UNSURE and playbook.category(category).is_sensitive
    review_evidence = must_not_be_routine(sensitive_category, signals.complaint.score, signals.urgency)
    if injection:
        review_evidence += ("text addressed to an AI",)
    if review_evidence:
        flags.append(Flag("needs_review", review_evidence))
    urgency = "low" if message_is_auto_reply(signals) and signals.urgency == "normal" else signals.urgency
    chosen = route(playbook, category, urgency, escalate, tuple(reasons), bool(review_evidence))

    return TriageResult(
        category=category, confidence=confidence, alternatives=alternatives,
        complaint=signals.complaint.score, frustration=signals.frustration.score, urgency=urgency,
        language=signals.language, details=details, escalate=escalate, escalation_reasons=tuple(reasons),
        team=chosen.team, next_steps=chosen.next_steps, priority=chosen.priority, auto_reply=signals.auto_reply,
        category_evidence=CategoryEvidence(getattr(model, "name", type(model).__name__), words),
        model_version=str(getattr(model, "version", "unknown")), playbook_version=playbook.version,
        handling=chosen.handling, sla=chosen.sla,
        signal_evidence={"complaint": signals.complaint.evidence, "frustration": signals.frustration.evidence,
                         "urgency": signals.urgency_evidence, "injection": injection},
        flags=tuple(flags),
    )


def message_is_auto_reply(signals: Signals) -> bool:
    return signals.auto_reply.detected
