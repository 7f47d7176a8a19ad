"""Import past tickets and messages from a helpdesk's CSV export, through the ticket actions.

The format is detected from the header row (names compared case-insensitively; the first
alias present wins). One row is one message; rows with the same ticket id form one ticket,
ordered by the message time (then file order). An export with one row per ticket (the
ticket's description only) imports as one customer message per ticket.

| field            | Zendesk                        | Freshdesk                          | Help Scout                   |
|------------------|--------------------------------|------------------------------------|------------------------------|
| detected by      | Id + Requester email           | Ticket ID + Created time           | Conversation ID + Customer email |
| ticket id        | Id, Ticket ID                  | Ticket ID                          | Conversation ID, Number      |
| subject          | Subject                        | Subject                            | Subject                      |
| text             | Comment, Comment body, Description | Conversation body, Body, Description | Thread body, Body, Preview |
| customer email   | Requester email                | Email, Requester email, Contact email | Customer email            |
| customer name    | Requester, Requester name      | Full name, Requester name, Contact name | Customer name           |
| ticket opened    | Created at                     | Created time                       | Created at                   |
| message time     | Comment created at             | Conversation created time          | Thread created at            |
| who wrote it     | Comment author role: end-user / agent | Conversation from: customer / agent | Thread type: customer / message, reply / note |
| status           | Status                         | Status                             | Status                       |
| channel          | Via                            | Source                             | Type                         |
| resolved at      | Solved at                      | Resolved time                      | Closed at                    |

Decisions:
- Customer messages go through do_create_ticket / do_add_customer_message with the dedup key
  ``import:<source>:<ticket id>:<n>``; agent replies through do_record_outbound (already sent) with the
  Message-ID ``<import.<source>.<ticket id>.<n>@history.lbsup>``. Both are checked before writing, so
  running the same file again (or after a crash) adds only what is missing: idempotent and resumable.
  Each ticket is written in one transaction.
- Agent replies need a person as the actor: each workspace gets one inactive user
  ``history-import-<slug>`` (no usable password, no membership) that authors every imported reply, so
  imported replies are never confused with replies sent through lbsup. Internal notes are not imported.
- Times without a zone are read in the workspace's time zone.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable

from dateutil import parser as dateparser
from django.contrib.auth import get_user_model
from django.db import transaction

from lbsup.audit.actors import SYSTEM
from lbsup.core.headers import one_line
from lbsup.crm.actions import do_find_or_create_contact

from .actions import (
    do_add_customer_message,
    do_change_status,
    do_create_ticket,
    do_record_outbound,
)
from .models import Channel, Message, Status

MAX_FIELD_CHARS = 1_000_000
MAX_TEXT_CHARS = 200_000
INBOUND, OUTBOUND, NOTE = "inbound", "outbound", "note"


class HistoryImportError(ValueError):
    pass


@dataclass(frozen=True)
class ExportFormat:
    source: str
    detect: tuple[tuple[str, ...], ...]  # every group needs one of its names present
    ticket_id: tuple[str, ...]
    subject: tuple[str, ...]
    text: tuple[str, ...]
    email: tuple[str, ...]
    name: tuple[str, ...]
    opened_at: tuple[str, ...]
    message_at: tuple[str, ...]
    author: tuple[str, ...]
    status: tuple[str, ...]
    channel: tuple[str, ...]
    resolved_at: tuple[str, ...]
    statuses: dict[str, str]
    authors: dict[str, str]


ZENDESK = ExportFormat(
    source="zendesk", detect=(("id", "ticket id"), ("requester email",)),
    ticket_id=("id", "ticket id"), subject=("subject",), text=("comment", "comment body", "description"),
    email=("requester email",), name=("requester", "requester name"), opened_at=("created at",),
    message_at=("comment created at",), author=("comment author role",), status=("status",), channel=("via",),
    resolved_at=("solved at",),
    statuses={"new": Status.NEW, "open": Status.OPEN, "pending": Status.WAITING, "hold": Status.WAITING,
              "on-hold": Status.WAITING, "solved": Status.RESOLVED, "closed": Status.CLOSED},
    authors={"end-user": INBOUND, "end user": INBOUND, "requester": INBOUND, "agent": OUTBOUND, "admin": OUTBOUND},
)
FRESHDESK = ExportFormat(
    source="freshdesk", detect=(("ticket id",), ("created time",)),
    ticket_id=("ticket id",), subject=("subject",), text=("conversation body", "body", "description"),
    email=("email", "requester email", "contact email"), name=("full name", "requester name", "contact name"),
    opened_at=("created time",), message_at=("conversation created time",), author=("conversation from",),
    status=("status",), channel=("source",), resolved_at=("resolved time",),
    statuses={"open": Status.OPEN, "pending": Status.WAITING, "waiting on customer": Status.WAITING,
              "waiting on third party": Status.WAITING, "resolved": Status.RESOLVED, "closed": Status.CLOSED},
    authors={"customer": INBOUND, "requester": INBOUND, "contact": INBOUND, "agent": OUTBOUND, "note": NOTE},
)
HELPSCOUT = ExportFormat(
    source="helpscout", detect=(("conversation id",), ("customer email",)),
    ticket_id=("conversation id", "number"), subject=("subject",), text=("thread body", "body", "preview"),
    email=("customer email",), name=("customer name",), opened_at=("created at",),
    message_at=("thread created at",), author=("thread type",), status=("status",), channel=("type",),
    resolved_at=("closed at",),
    statuses={"active": Status.OPEN, "open": Status.OPEN, "pending": Status.WAITING, "closed": Status.CLOSED,
              "spam": Status.CLOSED},
    authors={"customer": INBOUND, "message": OUTBOUND, "reply": OUTBOUND, "note": NOTE},
)
FORMATS = (HELPSCOUT, FRESHDESK, ZENDESK)


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self):
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class HistoryRow:
    line: int
    ticket_id: str
    subject: str
    text: str
    email: str
    name: str
    opened_at: object
    at: object
    author: str
    status: str
    channel: str
    resolved_at: object


@dataclass
class ImportResult:
    source: str
    tickets_created: int = 0
    tickets_seen: int = 0
    messages_created: int = 0
    messages_skipped: int = 0  # already imported
    notes_skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def detect_format(headers: Iterable[str]) -> ExportFormat:
    names = {h.strip().lower() for h in headers if h}
    for fmt in FORMATS:
        if all(any(n in names for n in group) for group in fmt.detect):
            return fmt
    known = "; ".join(f"{f.source}: " + " + ".join("/".join(g) for g in f.detect) for f in FORMATS)
    raise HistoryImportError(f"Unknown export format (columns: {', '.join(sorted(names)) or 'none'}). "
                             f"Expected the columns of {known}")


def _pick(row: dict, names: tuple[str, ...]) -> str:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _time(text: str, tz):
    if not text:
        return None
    moment = dateparser.parse(text)
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _channel(text: str) -> str:
    lowered = text.lower()
    if any(word in lowered for word in ("web", "portal", "form", "widget", "chat")):
        return Channel.WEB
    if "api" in lowered:
        return Channel.API
    return Channel.EMAIL


def read_export(stream: io.TextIOBase, tz) -> tuple[ExportFormat, list[HistoryRow], list[RowProblem]]:
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.DictReader(stream, strict=True)
    try:
        headers = reader.fieldnames or []
    except csv.Error as error:
        raise HistoryImportError(f"line 1: not a CSV file ({error})")
    fmt = detect_format(headers)
    rows, problems = [], []
    line = 1
    try:
        for raw in reader:
            line = reader.line_num
            data = {(k or "").strip().lower(): v for k, v in raw.items() if isinstance(v, str)}
            if any("\x00" in v for v in data.values()):
                # PostgreSQL stores no NUL; a broken export's NULs are dropped and the row says so.
                data = {k: v.replace("\x00", "") for k, v in data.items()}
                problems.append(RowProblem(line, "NUL characters removed; the row was kept"))
            ticket_id = _pick(data, fmt.ticket_id)
            if not ticket_id:
                problems.append(RowProblem(line, "no ticket id"))
                continue
            try:
                opened_at = _time(_pick(data, fmt.opened_at), tz)
                at = _time(_pick(data, fmt.message_at), tz) or opened_at
                resolved_at = _time(_pick(data, fmt.resolved_at), tz)
            except (ValueError, OverflowError) as error:
                problems.append(RowProblem(line, f"unreadable date ({error})"))
                continue
            if at is None:
                problems.append(RowProblem(line, "no date"))
                continue
            author_text = _pick(data, fmt.author).lower()
            author = fmt.authors.get(author_text, INBOUND if not author_text else None)
            if author is None:
                problems.append(RowProblem(line, f"unknown author type {author_text!r}"))
                continue
            rows.append(HistoryRow(
                line=line, ticket_id=ticket_id[:64], subject=one_line(_pick(data, fmt.subject))[:300],
                text=_pick(data, fmt.text)[:MAX_TEXT_CHARS], email=_pick(data, fmt.email)[:254],
                name=one_line(_pick(data, fmt.name))[:200], opened_at=opened_at or at, at=at, author=author,
                status=fmt.statuses.get(_pick(data, fmt.status).lower(), ""), channel=_channel(_pick(data, fmt.channel)),
                resolved_at=resolved_at,
            ))
    except csv.Error as error:
        raise HistoryImportError(f"line {line + 1}: {error}")
    return fmt, rows, problems


def import_user(workspace):
    """The inactive person who authors imported agent replies in this workspace."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=f"history-import-{workspace.slug}"[:150],
        defaults={"first_name": "Imported", "last_name": "history", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _dedup_key(source, ticket_id, n):
    return f"import:{source}:{ticket_id}:{n}"[:255]


def _message_id(source, ticket_id, n):
    return f"<import.{source}.{ticket_id}.{n}@history.lbsup>"


@transaction.atomic
def _import_ticket(workspace, fmt, ticket_id, rows, agent, result):
    source = fmt.source
    first = Message.objects.filter(workspace=workspace, dedup_key=_dedup_key(source, ticket_id, 0)).select_related(
        "ticket").first()
    ticket = first.ticket if first else None
    rows = sorted(rows, key=lambda r: (r.at, r.line))
    for n, row in enumerate(rows):
        if row.author == NOTE:
            result.notes_skipped += 1
            continue
        if ticket is None:
            if row.author != INBOUND or n != 0:
                result.problems.append(RowProblem(row.line, "the first message of a ticket must be the customer's"))
                return
            contact = do_find_or_create_contact(SYSTEM, workspace, row.email, row.name) if row.email else None
            if contact is None:
                from lbsup.crm.actions import do_create_contact

                contact = do_create_contact(SYSTEM, workspace, name=row.name or "Unknown customer")
            ticket = do_create_ticket(
                SYSTEM, workspace, contact=contact, subject=row.subject or "(no subject)", channel=row.channel,
                text=row.text, at=row.opened_at if row.opened_at <= row.at else row.at,
                dedup_key=_dedup_key(source, ticket_id, 0), thread_reason=f"imported from {source} #{ticket_id}",
            )
            result.tickets_created += 1
            result.messages_created += 1
            continue
        if row.author == INBOUND:
            key = _dedup_key(source, ticket_id, n)
            if Message.objects.filter(workspace=workspace, dedup_key=key).exists():
                result.messages_skipped += 1
                continue
            do_add_customer_message(SYSTEM, ticket, text=row.text, at=row.at, dedup_key=key,
                                    thread_reason=f"imported from {source} #{ticket_id}")
        else:
            message_id = _message_id(source, ticket_id, n)
            if Message.objects.filter(workspace=workspace, ticket=ticket, message_id=message_id).exists():
                result.messages_skipped += 1
                continue
            do_record_outbound(agent, ticket, text=row.text, at=row.at, message_id=message_id)
        result.messages_created += 1
    final = next((r for r in reversed(rows) if r.status), None)
    if ticket is not None and final is not None and ticket.status != final.status:
        do_change_status(SYSTEM, ticket, final.status, reason=f"imported from {source}",
                         at=final.resolved_at or rows[-1].at)


def import_history(workspace, stream: io.TextIOBase, *, progress: bool = False,
                   on_ticket: Callable[[str], None] | None = None) -> ImportResult:
    fmt, rows, problems = read_export(stream, workspace.tz)
    result = ImportResult(source=fmt.source, problems=list(problems))
    tickets: dict[str, list[HistoryRow]] = {}
    for row in rows:
        tickets.setdefault(row.ticket_id, []).append(row)
    agent = import_user(workspace)
    from tqdm import tqdm

    for ticket_id, ticket_rows in tqdm(tickets.items(), total=len(tickets), desc=f"{fmt.source} tickets",
                                       unit="ticket", file=sys.stderr, disable=not progress):
        result.tickets_seen += 1
        _import_ticket(workspace, fmt, ticket_id, ticket_rows, agent, result)
        if on_ticket:
            on_ticket(ticket_id)
    return result
