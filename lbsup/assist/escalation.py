"""Evaluate a playbook's escalation rules; every rule that fires is reported with its evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lbsup.assist.playbook import EscalationRule, Playbook
from lbsup.assist.results import URGENCY_LEVELS, EscalationReason, TriageContext

# Built into the engine, whatever a playbook says: these cannot be turned off.
HIGH_COMPLAINT = 0.6
LOW_CONFIDENCE = "low_confidence"
NEVER_ROUTINE = "never_routine"


@dataclass(frozen=True)
class EscalationInput:
    """What the rules look at; gathered by the orchestrator."""

    text: str
    category: str
    confidence: float
    complaint: float
    frustration: float
    urgency: str
    amounts: tuple[float, ...]
    received_at: datetime


def evaluate_rules(playbook: Playbook, facts: EscalationInput, context: TriageContext) -> tuple[EscalationReason, ...]:
    reasons = []
    for rule in playbook.escalation_rules:
        evidence = _fires(rule, facts, context)
        if evidence:
            reasons.append(EscalationReason(rule.id, evidence, rule.description))
    return tuple(reasons)


def _fires(rule: EscalationRule, facts: EscalationInput, context: TriageContext) -> tuple[str, ...]:
    trigger = rule.trigger
    if trigger == "words":
        return tuple(dict.fromkeys(m.group(0) for m in rule.compiled[0].finditer(facts.text)))
    if trigger == "patterns":
        return tuple(dict.fromkeys(m.group(0) for pattern in rule.compiled for m in pattern.finditer(facts.text)))
    if trigger == "categories":
        return (f"category={facts.category}",) if facts.category in rule.categories else ()
    if trigger == "complaint_above":
        return (f"complaint={facts.complaint:.2f}",) if facts.complaint > (rule.level or 0) else ()
    if trigger == "frustration_above":
        return (f"frustration={facts.frustration:.2f}",) if facts.frustration > (rule.level or 0) else ()
    if trigger == "confidence_below":
        return (f"confidence={facts.confidence:.2f}",) if facts.confidence < (rule.level or 0) else ()
    if trigger == "urgency_at_least":
        reached = URGENCY_LEVELS.index(facts.urgency) >= URGENCY_LEVELS.index(rule.urgency or "urgent")
        return (f"urgency={facts.urgency}",) if reached else ()
    if trigger == "contact_flags":
        flags = {"vip": context.vip, "sensitive": context.sensitive}
        return tuple(f"contact is {flag}" for flag in rule.contact_flags if flags.get(flag))
    if trigger == "amount_above":
        over = [a for a in facts.amounts if a > (rule.level or 0)]
        return (f"amount={max(over):.2f} > {rule.level:.2f}",) if over else ()
    if trigger == "repeat_contacts" and rule.repeat:
        since = facts.received_at - timedelta(days=rule.repeat.within_days)
        earlier = [h for h in context.history if h.category == facts.category and h.opened_at >= since]
        # This message counts as one of the N.
        if len(earlier) + 1 >= rule.repeat.count:
            return (f"{len(earlier) + 1} messages about {facts.category} within {rule.repeat.within_days} days",)
    return ()


def must_not_be_routine(category_is_sensitive: bool, complaint: float, urgency: str) -> tuple[str, ...]:
    """Evidence that a message needs a person's review even when its category is routine."""
    evidence = []
    if category_is_sensitive:
        evidence.append("category is a complaint or emergency")
    if complaint >= HIGH_COMPLAINT:
        evidence.append(f"complaint={complaint:.2f}")
    if urgency == "urgent":
        evidence.append("urgency=urgent")
    return tuple(evidence)
