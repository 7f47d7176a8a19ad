"""The internal note a representative reads next to every triaged message: short and scannable.

It is never shown to the customer; it explains what the software decided and why, so a
person can disagree quickly.
"""

from __future__ import annotations

from lbsup.assist.drafts import Draft
from lbsup.assist.results import TriageResult
from lbsup.assist.summarize import Summary

MAX_DETAILS = 8
MAX_WORDS = 6


def internal_note(triage: TriageResult, draft: Draft | None = None, summary: Summary | None = None) -> str:
    lines: list[str] = []
    if summary is not None and summary.sentences:
        lines.append(f"Summary: {summary.text}")
    lines.append(_classification(triage))
    details = [f"{d.kind.replace('_', ' ')}: {d.normalized}" for d in triage.details[:MAX_DETAILS]]
    if details:
        lines.append("Details: " + "; ".join(details))
    signals = [f"{name} {score:.2f}" for name, score in (("complaint", triage.complaint),
                                                        ("frustration", triage.frustration)) if score >= 0.3]
    signals.append(f"urgency {triage.urgency}")
    lines.append("Signals: " + ", ".join(signals))
    if triage.escalate or triage.escalation_reasons:
        reasons = [f"{r.rule} ({', '.join(r.evidence[:3])})" if r.evidence else r.rule
                   for r in triage.escalation_reasons]
        lines.append(f"{'Escalated' if triage.escalate else 'Flagged'} to {triage.team}: " + "; ".join(reasons))
    else:
        lines.append(f"Routed to {triage.team} ({triage.handling}, priority {triage.priority}).")
    for flag in triage.flags:
        lines.append(f"Warning: {flag.flag.replace('_', ' ')}" + (f" ({', '.join(flag.evidence[:3])})" if flag.evidence else ""))
    if draft is not None:
        lines.append(_draft_line(draft))
    if triage.next_steps:
        lines.append("Next steps:")
        lines.extend(f"  {i}. {step}" for i, step in enumerate(triage.next_steps, start=1))
    return "\n".join(lines)


def _classification(triage: TriageResult) -> str:
    words = ", ".join(triage.category_evidence.words[:MAX_WORDS])
    because = f" because of: {words}" if words else ""
    if triage.unsure:
        guesses = ", ".join(f"{a.category} {a.probability:.2f}" for a in triage.alternatives[:2])
        return f"Category: unsure (best guesses {guesses or 'none'}); a person chooses{because}."
    return f"Category: {triage.category} ({triage.confidence:.2f}, {triage.category_evidence.model}){because}."


def _draft_line(draft: Draft) -> str:
    if draft.reply_id is None:
        return f"Draft: none. {draft.note}".strip()
    blocking = [f.rule for f in draft.checks if f.blocking]
    parts = [f"Draft: reply '{draft.reply_id}' ({draft.source})"]
    if draft.missing:
        parts.append(f"fill in {', '.join(s.replace('_', ' ') for s in draft.missing)}")
    if blocking:
        parts.append(f"blocked by {', '.join(dict.fromkeys(blocking))}")
    if draft.fallback_reason:
        parts.append(f"LLM polish not used: {draft.fallback_reason}")
    return "; ".join(parts) + "."
