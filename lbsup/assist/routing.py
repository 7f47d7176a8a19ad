"""Team, next steps, handling and priority for a triaged message."""

from __future__ import annotations

from dataclasses import dataclass

from lbsup.assist.playbook import Playbook
from lbsup.assist.results import UNSURE, URGENCY_LEVELS, EscalationReason, Sla

UNSURE_STEPS = ("Read the message and choose the category", "Re-run triage or route by hand")


@dataclass(frozen=True)
class Route:
    team: str
    next_steps: tuple[str, ...]
    handling: str
    priority: str
    sla: Sla | None


def route(playbook: Playbook, category: str, urgency: str, escalate: bool,
          reasons: tuple[EscalationReason, ...], needs_review: bool) -> Route:
    priority = _priority(urgency, escalate)
    if category == UNSURE:
        team = playbook.escalation_owner if escalate else playbook.triage_team
        steps = UNSURE_STEPS
        handling = "escalate" if escalate else "review"
        sla = None
    else:
        chosen = playbook.category(category)
        team = chosen.team
        steps = chosen.next_steps
        handling = chosen.handling
        targets = chosen.sla_for(priority)
        sla = Sla(targets.first_response, targets.next_response, targets.resolution)
        if needs_review and handling == "routine":
            handling = "review"
    if escalate:
        team = playbook.escalation_owner
        handling = "escalate"
        rules = ", ".join(r.rule for r in reasons)
        owner = playbook.team(team).name
        steps = (f"Escalated to {owner} ({rules}): a lead reviews before anyone replies",) + tuple(steps)
    return Route(team, tuple(steps), handling, priority, sla)


def _priority(urgency: str, escalate: bool) -> str:
    level = URGENCY_LEVELS.index(urgency) if urgency in URGENCY_LEVELS else 1
    if escalate:
        level = max(level + 1, 2)
    return URGENCY_LEVELS[min(level, len(URGENCY_LEVELS) - 1)]
