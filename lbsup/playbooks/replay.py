"""Replay: what a candidate playbook would have done with the last N days of tickets.

For each ticket opened in the window, its first customer message is triaged again with a
model trained on the candidate's examples plus this workspace's corrections, and compared
with what was decided at the time: the stored TriageRecord (category, escalation, team)
and the first Draft proposed for that message (reply choice). A ticket without a stored
triage (imported history, or opened before triage was on) is compared with what the
active playbook says about it now, so imported history can be replayed too.

Nothing is written to tickets: a replay only reads and reports.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

from django.utils import timezone

from lbsup.assist.classifier import train_category_model
from lbsup.assist.drafts import rank_replies
from lbsup.assist.encoder import EncoderUnavailable, load_encoder
from lbsup.assist.playbook import Playbook
from lbsup.assist.results import UNSURE, MessageInput, TriageResult
from lbsup.assist.triage import triage_batch
from lbsup.drafts.models import Draft
from lbsup.tickets.models import Direction, Message
from lbsup.triage.engine import message_input, training_examples, triage_context
from lbsup.triage.models import TriageRecord

from .active import NoActivePlaybook, active_playbook

FIELDS = ("category", "escalation", "team", "reply")
BATCH = 64

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Outcome:
    category: str
    escalate: bool
    team: str
    reply: str
    source: str  # "stored", "active playbook", "candidate"

    def value(self, name: str):
        return self.escalate if name == "escalation" else getattr(self, name)


@dataclass(frozen=True)
class TicketReplay:
    ticket_id: int
    number: int
    subject: str
    before: Outcome
    after: Outcome
    changes: tuple[str, ...]
    escalation_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplayReport:
    days: int
    since: datetime.datetime
    playbook_version: str
    tickets: int
    counts: dict[str, int]  # changes per field
    changed: tuple[TicketReplay, ...]  # only tickets with at least one change

    def to_dict(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ReplayReport":
        changed = tuple(
            TicketReplay(**{**row, "before": Outcome(**row["before"]), "after": Outcome(**row["after"]),
                            "changes": tuple(row["changes"]),
                            "escalation_reasons": tuple(row.get("escalation_reasons", ()))})
            for row in data["changed"]
        )
        return cls(days=data["days"], since=datetime.datetime.fromisoformat(data["since"]),
                   playbook_version=data["playbook_version"], tickets=data["tickets"], counts=dict(data["counts"]),
                   changed=changed)


def first_messages(workspace, since: datetime.datetime) -> list[Message]:
    """The first customer message of each ticket opened since `since`, oldest ticket first."""
    seen, firsts = set(), []
    rows = (
        Message.objects.filter(workspace=workspace, direction=Direction.INBOUND, ticket__created_at__gte=since)
        .select_related("ticket", "ticket__contact", "ticket__team", "author_contact")
        .order_by("ticket__created_at", "ticket_id", "created_at", "id")
    )
    for message in rows:
        if message.ticket_id not in seen:
            seen.add(message.ticket_id)
            firsts.append(message)
    return firsts


def _encoder():
    try:
        return load_encoder()
    except EncoderUnavailable:
        return None  # lexical ranking, as the drafter does


def _reply_choice(playbook: Playbook, result: TriageResult, message: MessageInput, encoder) -> str:
    if result.category == UNSURE:
        return ""
    try:
        replies = playbook.category(result.category).replies
    except KeyError:
        return ""
    if not replies:
        return ""
    text = f"{message.subject}\n{message.body}".strip()
    return rank_replies(text, replies, encoder=encoder)[0].reply_id


def _read(playbook, model, inputs, contexts, encoder, source) -> list[tuple[Outcome, TriageResult]]:
    results = triage_batch(inputs, playbook, model, contexts)
    return [
        (Outcome(r.category, r.escalate, r.team or "", _reply_choice(playbook, r, m, encoder), source), r)
        for r, m in zip(results, inputs)
    ]


def _stored(messages: Sequence[Message]) -> dict[int, Outcome]:
    records = {r.message_id: r for r in TriageRecord.objects.filter(message__in=messages)}
    first_drafts: dict[int, str] = {}
    for message_id, reply_id in Draft.objects.filter(message__in=messages).order_by("id").values_list(
            "message_id", "reply_id"):
        first_drafts.setdefault(message_id, reply_id)
    return {
        message_id: Outcome(record.category, record.escalate, str(record.result.get("team") or ""),
                            first_drafts.get(message_id, ""), "stored")
        for message_id, record in records.items()
    }


def replay_playbook(workspace, candidate: Playbook, *, days: int, now: datetime.datetime | None = None,
                    progress: Progress | None = None, model=None) -> ReplayReport:
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    messages = first_messages(workspace, since)
    total = len(messages)
    if progress:
        progress(0, total)
    if model is None:
        examples, _ = training_examples(workspace, candidate)
        model = train_category_model(examples)
    try:
        _, active = active_playbook(workspace)
        from lbsup.triage.engine import workspace_model

        active_model = workspace_model(workspace)
    except NoActivePlaybook:
        active, active_model = None, None
    encoder = _encoder()
    counts = {name: 0 for name in FIELDS}
    changed = []
    for offset in range(0, total, BATCH):
        batch = messages[offset:offset + BATCH]
        inputs = [message_input(m) for m in batch]
        contexts = [triage_context(m.ticket) for m in batch]
        stored = _stored(batch)
        after = _read(candidate, model, inputs, contexts, encoder, "candidate")
        missing = [n for n, m in enumerate(batch) if m.pk not in stored]
        current = {}
        if missing and active is not None:
            readings = _read(active, active_model, [inputs[n] for n in missing], [contexts[n] for n in missing],
                             encoder, "active playbook")
            current = {batch[n].pk: outcome for n, (outcome, _) in zip(missing, readings)}
        for message, (new, result) in zip(batch, after):
            old = stored.get(message.pk) or current.get(message.pk)
            if old is None:
                continue
            changes = tuple(name for name in FIELDS if old.value(name) != new.value(name))
            for name in changes:
                counts[name] += 1
            if changes:
                ticket = message.ticket
                changed.append(TicketReplay(
                    ticket.pk, ticket.number, ticket.subject, old, new, changes,
                    tuple(r.rule for r in result.escalation_reasons),
                ))
        if progress:
            progress(min(offset + BATCH, total), total)
    return ReplayReport(days=days, since=since, playbook_version=candidate.version or candidate.content_hash[:12],
                        tickets=total, counts=counts, changed=tuple(changed))
