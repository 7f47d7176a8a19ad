"""Every write to tickets and messages. Views, API, CLI and jobs call these."""

from django.db import connection, transaction
from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import ASSISTANT, SYSTEM, is_person
from lbsup.core.headers import one_line
from lbsup.core.rows import insert_row, update_rows
from lbsup.workspaces.models import Workspace

from .models import AuthorKind, Direction, Message, Status, Ticket


def _allocate_ticket_number(workspace):
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite IMMEDIATE), so concurrent
    # intakes never get the same number. One statement with RETURNING (SQLite >= 3.35), not the ORM's
    # update then read: a new ticket's number was 8 % of the ingest time (bench/README.md, "Ingest").
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Workspace._meta.db_table)} SET next_ticket_number = next_ticket_number + 1 "
            f"WHERE id = %s RETURNING next_ticket_number", [workspace.pk])
        return cursor.fetchone()[0] - 1


def _check_same_workspace(workspace, *objects):
    for obj in objects:
        if obj is not None and obj.workspace_id != workspace.id:
            raise ValueError(f"{obj._meta.verbose_name} belongs to another workspace")


# The two writes of incoming mail take no savepoint of their own (two statements less per message:
# 14,778 → 11,184 for the 2,000 mails of bench/ingest.py): a failure inside rolls back the caller's
# transaction, or the savepoint the caller holds, as the batch of mail does for each message.
WITHOUT_SAVEPOINT = transaction.atomic(savepoint=False)


@WITHOUT_SAVEPOINT
def do_create_ticket(actor, workspace, *, contact, subject, channel, text, html="", at=None, message_id="",
                     in_reply_to="", references="", participants=(), **message_fields):
    """Open a ticket from a customer's first message (the returned ticket's `first_message`).
    participants: the addresses on the mail's From/To/Cc (ours left out)."""
    _check_same_workspace(workspace, contact)
    at = at or timezone.now()
    ticket = insert_row(Ticket(
        workspace=workspace,
        number=_allocate_ticket_number(workspace),
        subject=one_line(subject)[:300],
        contact=contact,
        channel=channel,
        created_at=at,
        updated_at=at,
        last_message_at=at,
        participants=list(participants),
    ))
    record_event(workspace, actor, "ticket.created", ticket, number=ticket.number, channel=channel)
    ticket.first_message = _create_message(
        actor, ticket, direction=Direction.INBOUND, author_kind=AuthorKind.CONTACT, author_contact=contact,
        text=text, html=html, at=at, message_id=message_id, in_reply_to=in_reply_to, references=references,
        thread_reason=message_fields.pop("thread_reason", "new ticket"), **message_fields,
    )
    _clocks_moved(ticket, at)
    # The contact's address costs a query: looked up only when an endpoint wants the event.
    _emit(ticket, "ticket.created", channel=channel, subject=ticket.subject,
          contact_email=lambda: contact.primary_email)
    return ticket


def _emit(ticket, event_type, **data):
    """data: the payload's values; a callable value is called only if some endpoint wants the event."""
    # Webhooks for the business's own tools (imported late: lbsup.webhooks is a leaf app).
    from lbsup.webhooks.actions import do_emit

    do_emit(ticket.workspace, event_type, lambda: {
        "ticket": ticket.number, **{name: value() if callable(value) else value for name, value in data.items()}})


def _clocks_moved(ticket, at=None, **what):
    # SLA clocks and follow-ups live in lbsup.followups (imported late: it depends on this module).
    from lbsup.followups.hooks import ticket_changed

    ticket_changed(ticket, at=at, **what)


def _create_message(actor, ticket, *, direction, author_kind, text, at, author_contact=None, author_user=None,
                    html="", message_id="", in_reply_to="", references="", sent_at=None, quoted_text="",
                    dedup_key="", thread_reason="", parent_message_id=None, content_sha256=None):
    message = insert_row(Message(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        direction=direction,
        author_kind=author_kind,
        author_contact=author_contact,
        author_user=author_user,
        text=text,
        html=html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        created_at=at,
        sent_at=sent_at,
        quoted_text=quoted_text,
        dedup_key=dedup_key,
        thread_reason=thread_reason,
        parent_message_id=parent_message_id,
        content_sha256=content_sha256,
    ))
    record_event(ticket.workspace, actor, f"message.{direction}", message, ticket=ticket.number)
    return message


@WITHOUT_SAVEPOINT
def do_add_customer_message(actor, ticket, *, text, html="", at=None, message_id="", in_reply_to="", references="",
                            author_contact=None, participants=(), **message_fields):
    """A customer wrote again on an existing ticket: a closed or waiting ticket comes back to the queue.
    participants: the addresses on the mail's From/To/Cc (ours left out), added to the ticket's."""
    at = at or timezone.now()
    message = _create_message(
        actor, ticket, direction=Direction.INBOUND, author_kind=AuthorKind.CONTACT,
        author_contact=author_contact or ticket.contact, text=text, html=html, at=at,
        message_id=message_id, in_reply_to=in_reply_to, references=references, **message_fields,
    )
    updates = {"last_message_at": max(at, ticket.last_message_at), "updated_at": timezone.now()}
    known = ticket.participants or []
    joined = [address for address in participants if address not in known]
    if joined:
        updates["participants"] = [*known, *joined]
    reopened = ticket.status in (Status.RESOLVED, Status.CLOSED)
    if ticket.status in (Status.WAITING, Status.RESOLVED, Status.CLOSED):
        updates["status"] = Status.OPEN
        record_event(ticket.workspace, actor, "ticket.reopened_by_customer", ticket, before=ticket.status)
    _update_ticket(ticket, **updates)
    _clocks_moved(ticket, at, restart=reopened, customer_wrote=True)
    return message


@transaction.atomic
def do_record_outbound(actor, ticket, *, text, html="", at=None, message_id="", in_reply_to="", references="",
                       queued=False):
    """Store a reply that a named person approved for the customer. Automation never sends.
    queued=True: it is on its way (the outbound app sends it and calls do_mark_sent);
    otherwise it was already sent (history, imports)."""
    if not is_person(actor):
        raise PermissionError("Only a person can send a reply to a customer")
    at = at or timezone.now()
    message = _create_message(
        actor, ticket, direction=Direction.OUTBOUND, author_kind=AuthorKind.USER, author_user=actor, text=text,
        html=html, at=at, message_id=message_id, in_reply_to=in_reply_to, references=references,
        sent_at=None if queued else at,
    )
    _update_ticket(ticket, last_message_at=at, updated_at=timezone.now())
    if not queued:
        _record_first_response(ticket, at)
    _clocks_moved(ticket, at)
    return message


@transaction.atomic
def do_mark_sent(message, at=None):
    at = at or timezone.now()
    Message.objects.filter(pk=message.pk).update(sent_at=at)
    message.sent_at = at
    _record_first_response(message.ticket, at)
    record_event(message.ticket.workspace, SYSTEM, "message.sent", message, ticket=message.ticket.number)
    _clocks_moved(message.ticket, at)
    _emit(message.ticket, "message.sent", message_id=message.message_id, sent_at=at,
          approved_by=message.author_user.get_username() if message.author_user_id else None)
    return message


def _record_first_response(ticket, at):
    # Conditional UPDATE: the first reply to land wins, whichever worker records it.
    Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(first_response_at=at)
    ticket.refresh_from_db(fields=["first_response_at"])


@transaction.atomic
def do_add_note(actor, ticket, text, *, at=None):
    """An internal note: never shown to the customer. The assistant writes notes too."""
    if not text.strip():
        raise ValueError("A note cannot be empty")
    at = at or timezone.now()
    kind = AuthorKind.ASSISTANT if actor == ASSISTANT else AuthorKind.USER
    return _create_message(
        actor, ticket, direction=Direction.NOTE, author_kind=kind, author_user=actor if is_person(actor) else None,
        text=text, at=at,
    )


@transaction.atomic
def do_assign(actor, ticket, assignee):
    if assignee is not None and not assignee.memberships.filter(workspace_id=ticket.workspace_id).exists():
        raise ValueError(f"{assignee} is not a member of {ticket.workspace}")
    before = ticket.assignee.get_username() if ticket.assignee_id else None
    _update_ticket(ticket, assignee=assignee, updated_at=timezone.now())
    record_event(ticket.workspace, actor, "ticket.assigned", ticket, before=before,
                 after=assignee.get_username() if assignee else None)
    return ticket


@transaction.atomic
def do_change_status(actor, ticket, status, *, reason="", at=None):
    if status not in Status.values:
        raise ValueError(f"Unknown status {status!r}")
    before = ticket.status
    updates = {"status": status, "updated_at": timezone.now()}
    if status == Status.RESOLVED:
        updates["resolved_at"] = at or timezone.now()
    elif status != Status.CLOSED:
        updates["resolved_at"] = None
    _update_ticket(ticket, **updates)
    record_event(ticket.workspace, actor, "ticket.status_changed", ticket, before=before, after=status, reason=reason)
    _clocks_moved(ticket, at)
    if status == Status.RESOLVED and before != Status.RESOLVED:
        from lbsup.crm.hooks import ticket_resolved

        ticket_resolved(actor, ticket)
    return ticket


@transaction.atomic
def do_set_priority(actor, ticket, priority, *, reason=""):
    before = ticket.priority
    _update_ticket(ticket, priority=priority, updated_at=timezone.now())
    record_event(ticket.workspace, actor, "ticket.priority_changed", ticket, before=before, after=priority, reason=reason)
    _clocks_moved(ticket)
    return ticket


@transaction.atomic
def do_route(actor, ticket, *, category, team, confidence=None, reason=""):
    """Set the ticket's category and owning team (triage does this; a person can override it)."""
    _check_same_workspace(ticket.workspace, team)
    before = {"category": ticket.category, "team": ticket.team.slug if ticket.team_id else None}
    _update_ticket(
        ticket, category=category, team=team, category_confidence=confidence,
        category_source="person" if is_person(actor) else "assistant", updated_at=timezone.now(),
    )
    record_event(ticket.workspace, actor, "ticket.routed", ticket, before=before,
                 after={"category": category, "team": team.slug if team else None}, confidence=confidence,
                 reason=reason)
    _clocks_moved(ticket)
    return ticket


@transaction.atomic
def do_escalate(actor, ticket, *, reasons, team=None):
    """Send the ticket to a person with the reasons spelled out (rule or model, and the evidence)."""
    if not reasons:
        raise ValueError("An escalation needs a reason")
    _check_same_workspace(ticket.workspace, team)
    first = reasons[0]
    label = first if isinstance(first, str) else f"{first['rule']}: {', '.join(first.get('evidence', []))}"
    fields = {"status": Status.ESCALATED, "escalation_reason": label[:300], "updated_at": timezone.now()}
    if team is not None:
        fields["team"] = team
    before = ticket.status
    _update_ticket(ticket, **fields)
    record_event(ticket.workspace, actor, "ticket.escalated", ticket, before=before, reasons=reasons,
                 team=team.slug if team else None)
    _clocks_moved(ticket)
    _emit(ticket, "ticket.escalated", reasons=reasons, team=team.slug if team else None)
    return ticket


@transaction.atomic
def do_deescalate(actor, ticket, *, reason):
    if not reason.strip():
        raise ValueError("Removing an escalation needs a reason")
    _update_ticket(ticket, status=Status.OPEN, escalation_reason="", updated_at=timezone.now())
    record_event(ticket.workspace, actor, "ticket.deescalated", ticket, reason=reason)
    _clocks_moved(ticket)
    return ticket


def _update_ticket(ticket, **fields):
    for name, value in fields.items():
        setattr(ticket, name, value)
    update_rows(Ticket, [ticket], list(fields))


@transaction.atomic
def do_split_message(actor, message, *, subject=""):
    """Move a customer's message that raises a separate matter into a ticket of its own.

    The message keeps its text, attachments and triage; the new ticket starts where the
    old one was (contact, channel, team) and both tickets' histories say where it went."""
    if not is_person(actor):
        raise PermissionError("Only a person splits a ticket")
    if message.direction != Direction.INBOUND:
        raise ValueError("Only a customer's message can start a new ticket")
    source = Ticket.objects.select_for_update().get(pk=message.ticket_id)
    if not source.messages.filter(direction=Direction.INBOUND).exclude(pk=message.pk).exists():
        raise ValueError("This is the ticket's only customer message; nothing would be left to split from")
    workspace = source.workspace
    at = timezone.now()
    ticket = Ticket.objects.create(
        workspace=workspace, number=_allocate_ticket_number(workspace),
        subject=(one_line(subject) or one_line(source.subject))[:300], contact=message.author_contact or source.contact,
        channel=source.channel, priority=source.priority, team=source.team, created_at=message.created_at,
        updated_at=at, last_message_at=message.created_at,
    )
    Message.objects.filter(pk=message.pk).update(ticket=ticket)
    message.ticket = ticket
    from lbsup.drafts.models import Draft
    from lbsup.triage.models import TriageRecord

    TriageRecord.objects.filter(message=message).update(ticket=ticket)
    Draft.objects.filter(message=message).update(ticket=ticket)
    last = source.messages.order_by("-created_at", "-id").values_list("created_at", flat=True).first()
    _update_ticket(source, last_message_at=last or source.created_at, updated_at=at)
    record_event(workspace, actor, "ticket.created", ticket, number=ticket.number, channel=ticket.channel,
                 split_from=source.number)
    record_event(workspace, actor, "ticket.split", source, message=message.pk, new_ticket=ticket.number)
    return ticket


def _merged_participants(*tickets):
    return list(dict.fromkeys(address for ticket in tickets for address in ticket.participants or ()))


@transaction.atomic
def do_merge_tickets(actor, source, target, *, reason=""):
    """One conversation on two tickets becomes one: every message of `source` (with its drafts,
    triage, outbound mail, CRM notes and follow-ups) moves to `target`, and `source` is closed as merged into it,
    so its reply address and tag lead to `target`. The audit event on both lists the messages moved,
    which is what a person needs to split them off again (do_split_message). A person merges from the
    ticket page; intake merges by itself when a reply that opened a ticket turns out to answer mail
    of another (it arrived first)."""
    from lbsup.crm.models import CrmNote
    from lbsup.drafts.models import Draft
    from lbsup.followups.models import FollowUp
    from lbsup.outbound.models import OutboundEmail
    from lbsup.triage.models import TriageRecord

    _check_same_workspace(source.workspace, target)
    if source.pk == target.pk:
        raise ValueError("A ticket cannot be merged into itself")
    if source.merged_into_id:
        raise ValueError(f"#{source.number} was already merged into another ticket")
    if target.merged_into_id:
        raise ValueError(f"#{target.number} was merged into another ticket; merge into that one")
    workspace = source.workspace
    moved = list(Message.objects.filter(ticket=source).values_list("pk", flat=True))
    Message.objects.filter(ticket=source).update(ticket=target)
    for model in (TriageRecord, Draft, OutboundEmail, FollowUp):
        model.objects.filter(ticket=source).update(ticket=target)
    # A ticket has one CRM note in preparation at most: the target's stays, the source's then stays behind.
    CrmNote.objects.filter(ticket=source).exclude(state="draft").update(ticket=target)
    if not CrmNote.objects.filter(ticket=target, state="draft").exists():
        CrmNote.objects.filter(ticket=source).update(ticket=target)
    now = timezone.now()
    updates = {"participants": _merged_participants(target, source), "updated_at": now,
               "last_message_at": max(target.last_message_at, source.last_message_at),
               "created_at": min(target.created_at, source.created_at)}
    if source.first_response_at and (not target.first_response_at or source.first_response_at < target.first_response_at):
        updates["first_response_at"] = source.first_response_at
    if not target.is_open and source.is_open:
        updates["status"], updates["resolved_at"] = Status.OPEN, None
    _update_ticket(target, **updates)
    _update_ticket(source, merged_into=target, status=Status.CLOSED, resolved_at=source.resolved_at or now,
                   updated_at=now)
    record_event(workspace, actor, "ticket.merged", source, into=target.number, messages=moved, reason=reason[:300])
    record_event(workspace, actor, "ticket.merged_in", target, merged=source.number, messages=moved,
                 reason=reason[:300])
    _clocks_moved(source, now)
    _clocks_moved(target, now, restart="status" in updates)
    return target
