"""Which ticket an inbound mail belongs to, and why, in a fixed order of trust:
1. the ticket token in the reply address (support+<token>@…),
2. one of our own outbound Message-IDs in In-Reply-To/References,
3. a [#N] ticket tag in the subject,
otherwise a new ticket. A match is refused when the sender is neither the ticket's
contact nor from the contact's company, so a guessed token or tag cannot attach mail
to someone else's ticket."""

import re
from dataclasses import dataclass

from django.db.models import Q

from lbsup.crm.models import ContactEmail
from lbsup.tickets.models import Direction, Message, Ticket

from .addresses import reply_token_in

SUBJECT_TAG = re.compile(r"\[#(\d{1,9})\]")


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket | None
    reason: str


def sender_belongs_to(ticket, sender_email, sender_contact=None):
    """sender_contact: the contact who owns sender_email in the ticket's workspace, when the
    caller has it (an address belongs to one contact per workspace), which saves two lookups."""
    sender_email = (sender_email or "").lower()
    if not sender_email:
        return False
    if sender_contact is not None:
        if sender_contact.pk == ticket.contact_id:
            return True
    elif ContactEmail.objects.filter(contact_id=ticket.contact_id, email=sender_email).exists():
        return True
    company = ticket.contact.company
    if company is None:
        return False
    if company.domain and sender_email.rpartition("@")[2] == company.domain:
        return True
    if sender_contact is not None:
        return sender_contact.company_id == company.pk
    return ContactEmail.objects.filter(workspace_id=ticket.workspace_id, email=sender_email,
                                       contact__company=company).exists()


class LookupsOneByOne:
    """Each lookup one query: a message that arrives alone."""

    def __init__(self, workspace):
        self.workspace = workspace

    def by_token(self, token):
        return Ticket.objects.filter(workspace=self.workspace, reply_token=token).first()

    def newest_of_ours(self, message_ids):
        """Our newest outbound message among these Message-IDs, with its ticket."""
        return (Message.objects.filter(workspace=self.workspace, direction=Direction.OUTBOUND,
                                       message_id__in=message_ids)
                .select_related("ticket").order_by("-created_at").first())

    def by_number(self, number):
        ticket = Ticket.objects.filter(workspace=self.workspace, number=number).select_related(
            "contact__company").first()
        if ticket is not None:
            ticket.workspace = self.workspace  # known: no join for it
        return ticket


class LookupsReadOnce:
    """The same lookups for a batch of mails, each kind read with one query for the whole batch
    inside the batch's transaction. It cannot miss a ticket or one of our messages that a mail of
    the batch could name: a customer learns a token, a tag or one of our Message-IDs only from mail
    we sent, so it was committed before the mail was received; tickets the batch itself opens are
    added as it goes. The tickets are read FOR UPDATE (PostgreSQL; SQLite's IMMEDIATE transaction
    already holds the write lock), so a representative resolving one meanwhile cannot leave a
    customer's new message on a ticket the batch still believes open."""

    def __init__(self, workspace, mails):
        self.workspace = workspace
        tokens = {token for mail in mails if (token := reply_token_in(workspace, mail.routing_recipients))}
        message_ids = {message_id for mail in mails for message_id in (*mail.in_reply_to, *mail.references)}
        numbers = {int(tag.group(1)) for mail in mails if (tag := SUBJECT_TAG.search(mail.subject or ""))}
        self.ours = {}  # Message-ID → our outbound messages with that id
        if message_ids:
            for message in Message.objects.filter(workspace=workspace, direction=Direction.OUTBOUND,
                                                  message_id__in=message_ids).only(
                                                      "id", "message_id", "created_at", "ticket_id"):
                self.ours.setdefault(message.message_id, []).append(message)
        ticket_ids = {message.ticket_id for messages in self.ours.values() for message in messages}
        wanted = Q(number__in=numbers) | Q(reply_token__in=tokens) | Q(pk__in=ticket_ids)
        tickets = list(Ticket.objects.filter(wanted, workspace=workspace).select_related("contact__company")
                       .select_for_update(of=("self",)).order_by("pk")) if tokens or numbers or ticket_ids else []
        self.tickets, self.numbers, self.tokens = {}, {}, {}
        for ticket in tickets:
            self.added(ticket)

    def added(self, ticket):
        """A ticket the batch opened: later mails of the batch may name it."""
        ticket.workspace = self.workspace
        self.tickets[ticket.pk] = ticket
        self.numbers[ticket.number] = ticket
        self.tokens[ticket.reply_token] = ticket

    def by_token(self, token):
        return self.tokens.get(token)

    def newest_of_ours(self, message_ids):
        found = [message for message_id in set(message_ids) for message in self.ours.get(message_id, ())]
        if not found:
            return None
        newest = max(found, key=lambda message: message.created_at)
        newest.ticket = self.tickets[newest.ticket_id]
        return newest

    def by_number(self, number):
        return self.numbers.get(number)

    def mark(self):
        return dict(self.tickets), dict(self.numbers), dict(self.tokens)

    def undo(self, mark):
        """Forget the tickets a rolled-back savepoint opened, and re-read the others: the rolled-back
        message may have changed one in memory (reopened it, moved its due times)."""
        self.tickets, self.numbers, self.tokens = (dict(part) for part in mark)
        for ticket in self.tickets.values():
            ticket.refresh_from_db()


def find_ticket(workspace, mail, sender_contact=None, lookups=None):
    lookups = lookups or LookupsOneByOne(workspace)
    refused = []
    candidates = []
    token = reply_token_in(workspace, mail.routing_recipients)
    if token:
        candidates.append((lookups.by_token(token), f"reply address token {token}"))
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if ids:
        ours = lookups.newest_of_ours(ids)
        if ours:
            candidates.append((ours.ticket, f"replies to our message <{ours.message_id}>"))
    tag = SUBJECT_TAG.search(mail.subject or "")
    if tag:
        candidates.append((lookups.by_number(int(tag.group(1))), f"subject tag [#{tag.group(1)}]"))
    for ticket, reason in candidates:
        if ticket is None:
            refused.append(f"{reason}: no such ticket")
        elif sender_belongs_to(ticket, mail.from_email, sender_contact):
            return ThreadMatch(ticket, reason)
        else:
            refused.append(f"{reason}: sender {mail.from_email} is not on ticket #{ticket.number}")
    reason = "new ticket" + (f" (refused: {'; '.join(refused)})" if refused else "")
    return ThreadMatch(None, reason[:200])
