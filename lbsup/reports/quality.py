"""How well the assistant's work holds up with the people who check it: the input for
improving a playbook. Drafts (lbsup.drafts.Draft), corrections (LabelledExample) and
guardrail findings (Draft.checks) over a window, per workspace and per playbook reply."""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from lbsup.drafts.models import Draft
from lbsup.triage.models import LabelledExample

from .figures import Figure

NO_REPLY = "(no approved reply)"


@dataclass(frozen=True)
class ReplyQuality:
    reply_id: str
    category: str
    proposed: int
    approved_unchanged: int
    approved_edited: int
    rejected: int
    median_edit_size: float | None
    ticket_ids: tuple[int, ...]

    @property
    def key(self) -> str:
        return f"quality:reply:{self.reply_id or NO_REPLY}"


@dataclass(frozen=True)
class Override:
    previous: str
    label: str
    count: int
    ticket_ids: tuple[int, ...]


@dataclass(frozen=True)
class AssistQuality:
    start: datetime.datetime
    end: datetime.datetime
    totals: ReplyQuality
    replies: tuple[ReplyQuality, ...]  # the most edited first
    overrides: tuple[Override, ...]  # assistant's category -> person's category
    escalations_added: Figure
    escalations_removed: Figure
    guardrail_findings: tuple[Figure, ...]

    @property
    def figures(self) -> dict[str, Figure]:
        found = {f.key: f for f in (self.escalations_added, self.escalations_removed, *self.guardrail_findings)}
        for reply in (self.totals, *self.replies):
            found[reply.key] = Figure(reply.key, reply.reply_id, reply.proposed, reply.ticket_ids)
        for override in self.overrides:
            key = f"quality:override:{override.previous}>{override.label}"
            found[key] = Figure(key, f"{override.previous} → {override.label}", override.count, override.ticket_ids)
        return found


def _unique(ids):
    return tuple(dict.fromkeys(ids))


def _reply_quality(reply_id, category, drafts) -> ReplyQuality:
    approved = [d for d in drafts if d["state"] == Draft.State.APPROVED]
    edited = [d for d in approved if (d["edit_size"] or 0) > 0]
    return ReplyQuality(
        reply_id=reply_id, category=category, proposed=len(drafts),
        approved_unchanged=len(approved) - len(edited), approved_edited=len(edited),
        rejected=sum(d["state"] == Draft.State.REJECTED for d in drafts),
        median_edit_size=round(statistics.median(d["edit_size"] for d in edited), 3) if edited else None,
        ticket_ids=_unique(d["ticket_id"] for d in drafts),
    )


def assist_quality(workspace, start: datetime.datetime, end: datetime.datetime) -> AssistQuality:
    # Superseded drafts were replaced before anyone decided (a correction, another reply
    # chosen): counting them as "proposed" would blame the reply for the category.
    drafts = list(
        Draft.objects.filter(workspace=workspace, created_at__gte=start, created_at__lt=end)
        .exclude(state=Draft.State.SUPERSEDED)
        .order_by("id").values("ticket_id", "reply_id", "category", "state", "edit_size", "checks")
    )
    per_reply: dict[tuple[str, str], list[dict]] = {}
    for draft in drafts:
        per_reply.setdefault((draft["reply_id"] or NO_REPLY, draft["category"]), []).append(draft)
    replies = sorted(
        (_reply_quality(reply_id, category, rows) for (reply_id, category), rows in per_reply.items()),
        key=lambda r: (-r.approved_edited, -(r.median_edit_size or 0), -r.rejected, r.reply_id),
    )
    findings: dict[str, list[int]] = {}
    for draft in drafts:
        for check in draft["checks"] or []:
            findings.setdefault(str(check.get("rule", "unknown")), []).append(draft["ticket_id"])

    labels = LabelledExample.objects.filter(workspace=workspace, created_at__gte=start, created_at__lt=end)
    overrides: dict[tuple[str, str], list[int]] = {}
    for previous, label, ticket_id in labels.filter(kind=LabelledExample.Kind.CATEGORY).values_list(
            "previous", "label", "message__ticket_id"):
        overrides.setdefault((previous or "(none)", label), []).append(ticket_id)
    escalation_labels = list(labels.filter(kind=LabelledExample.Kind.ESCALATION).values_list(
        "previous", "label", "message__ticket_id"))
    added = _unique(t for p, label, t in escalation_labels if label == "escalate" and p != "escalate" and t)
    removed = _unique(t for p, label, t in escalation_labels if label == "do_not_escalate" and p == "escalate" and t)
    return AssistQuality(
        start=start, end=end,
        totals=_reply_quality("all replies", "", drafts),
        replies=tuple(replies),
        overrides=tuple(sorted(
            (Override(p, label, len(ids), _unique(t for t in ids if t)) for (p, label), ids in overrides.items()),
            key=lambda o: (-o.count, o.previous, o.label),
        )),
        escalations_added=Figure("quality:escalations:added", "Escalations added by people", len(added), added),
        escalations_removed=Figure("quality:escalations:removed", "Escalations removed by people", len(removed),
                                   removed),
        guardrail_findings=tuple(
            Figure(f"quality:guardrail:{rule}", rule.replace("_", " "), len(ids), _unique(ids))
            for rule, ids in sorted(findings.items(), key=lambda item: (-len(item[1]), item[0]))
        ),
    )
