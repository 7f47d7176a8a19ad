"""Which ticket an inbound mail belongs to, and why, in a fixed order of trust:
1. the ticket token in the reply address (support+<token>@…),
2. any Message-ID in In-Reply-To/References of a message on a ticket of this workspace,
   the customer's own and their colleagues' as well as ours,
3. a [#N] ticket tag in the subject,
4. only where the workspace turned it on: "Re: <subject>" from the ticket's contact while the
   ticket is open and had mail within the workspace's number of days,
otherwise a new ticket. Replies that arrived before the mail they answer (and so opened tickets of
their own) are merged into its ticket once it is stored (early_replies_to): the conversation then
starts where it started, with the first writer as the ticket's contact. A match is refused when the sender is neither the ticket's contact,
from the contact's company, nor one of the ticket's participants (on From/To/Cc of its mail), so a
guessed token, tag or Message-ID cannot attach mail to someone else's ticket. A ticket merged into
another stands for the one it was merged into."""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from lbsup.crm.models import ContactEmail
from lbsup.tickets.models import Direction, Message, Status, Ticket

from .addresses import reply_token_in, split_address

SUBJECT_TAG = re.compile(r"\[#(\d{1,9})\]")
# Reply prefixes of the common mail clients (English, German, Dutch, Scandinavian, Spanish, French,
# Italian, Portuguese), repeated or numbered ("Re[2]:"); bounded, so no backtracking to speak of.
REPLY_PREFIX = re.compile(r"^(?:\s{0,20}(?:re|aw|sv|antw|r|rif|res|ref|vs)(?:\[\d{1,3}\])?\s{0,3}:)+\s*",
                          re.IGNORECASE)
MERGE_HOPS = 10  # a ticket merged into one merged into another …; more would be a loop


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket | None
    reason: str


def is_ours(workspace, address):
    """The workspace's support address or one of its per-ticket reply addresses."""
    own_base, _, own_domain = split_address(workspace.support_email)
    base, _, domain = split_address(address)
    return bool(base) and base == own_base and domain == own_domain


def people_on(workspace, mail):
    """The lower-case addresses on From, Reply-To, To and Cc of a mail, ours left out, in order."""
    addresses = [mail.from_email or "", *(a.email for a in (*mail.reply_to, *mail.to, *mail.cc))]
    seen = {}
    for address in addresses:
        address = address.strip().lower()
        if address and "@" in address and not is_ours(workspace, address):
            seen.setdefault(address, None)
    return list(seen)


def parent_of(mail):
    """The Message-ID this mail answers: In-Reply-To, else the last of References."""
    ids = mail.in_reply_to or mail.references[-1:]
    return ids[0][:255] if ids else ""


def subject_key(subject):
    """'RE: AW: Broken tap [#12]' and 'Broken  tap' → 'broken tap'."""
    return " ".join(SUBJECT_TAG.sub("", REPLY_PREFIX.sub("", subject or "", count=1)).split()).casefold()


def reply_subject_key(subject):
    """subject_key of a reply's subject; '' when the subject is not a reply's."""
    return subject_key(subject) if REPLY_PREFIX.match(subject or "") else ""


def sender_belongs_to(ticket, sender_email, sender_contact=None):
    """sender_contact: the contact who owns sender_email in the ticket's workspace, when the
    caller has it (an address belongs to one contact per workspace), which saves two lookups."""
    sender_email = (sender_email or "").lower()
    if not sender_email:
        return False
    if sender_email in (ticket.participants or ()):
        return True
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

    def _with_workspace(self, ticket):
        if ticket is not None:
            ticket.workspace = self.workspace  # known: no join for it
        return ticket

    def by_token(self, token):
        return self._with_workspace(Ticket.objects.filter(workspace=self.workspace, reply_token=token)
                                    .select_related("contact__company").first())

    def by_pk(self, pk):
        return self._with_workspace(Ticket.objects.filter(workspace=self.workspace, pk=pk)
                                    .select_related("contact__company").first())

    def newest_known(self, message_ids):
        """The newest message of this workspace, ours or the customers', among these Message-IDs."""
        message = (Message.objects.filter(workspace=self.workspace, message_id__in=message_ids)
                   .select_related("ticket__contact__company").order_by("-created_at", "-id").first())
        if message is not None:
            self._with_workspace(message.ticket)
        return message

    def by_number(self, number):
        return self._with_workspace(Ticket.objects.filter(workspace=self.workspace, number=number)
                                    .select_related("contact__company").first())

    def by_subject(self, contact, key, since):
        for ticket in (Ticket.objects.filter(workspace=self.workspace, contact=contact, last_message_at__gte=since,
                                             merged_into=None)
                       .exclude(status__in=(Status.RESOLVED, Status.CLOSED)).select_related("contact__company")
                       .order_by("-last_message_at")[:20]):
            if subject_key(ticket.subject) == key:
                return self._with_workspace(ticket)
        return None

    def early_replies(self, message_id):
        """Messages stored before this Message-ID arrived that name it as their parent, each with
        its author's addresses: [(message, {addresses})]."""
        if not message_id:
            return []
        children = list(Message.objects.filter(workspace=self.workspace, parent_message_id=message_id[:255],
                                               direction=Direction.INBOUND))
        addresses = _addresses_of({child.author_contact_id for child in children})
        for child in children:
            child.ticket = self.by_pk(child.ticket_id)
        return [(child, addresses.get(child.author_contact_id, set())) for child in children]

    def added_message(self, message, sender_email):
        pass  # the next lookup reads the database, where the message now is


def _addresses_of(contact_ids):
    addresses = {}
    for row in ContactEmail.objects.filter(contact_id__in=contact_ids - {None}).values_list("contact_id", "email"):
        addresses.setdefault(row[0], set()).add(row[1])
    return addresses


class LookupsReadOnce:
    """The same lookups for a batch of mails, each kind read with one query for the whole batch
    inside the batch's transaction, then kept up to date as the batch stores messages and opens
    tickets (a customer's second mail can name their first one of the same batch). The tickets are
    read FOR UPDATE (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock), so a
    representative resolving one meanwhile cannot leave a customer's new message on a ticket the
    batch still believes open."""

    def __init__(self, workspace, mails):
        self.workspace = workspace
        tokens = {token for mail in mails if (token := reply_token_in(workspace, mail.routing_recipients))}
        message_ids = {message_id for mail in mails for message_id in (*mail.in_reply_to, *mail.references)}
        own_ids = {mail.message_id[:255] for mail in mails if mail.message_id}
        numbers = {int(tag.group(1)) for mail in mails if (tag := SUBJECT_TAG.search(mail.subject or ""))}
        self.known = {}  # Message-ID → [(created_at, pk, ticket pk, Message-ID)]
        if message_ids:
            for message in Message.objects.filter(workspace=workspace, message_id__in=message_ids).only(
                    "id", "message_id", "created_at", "ticket_id"):
                self.known.setdefault(message.message_id, []).append(
                    (message.created_at, message.pk, message.ticket_id, message.message_id))
        self.children = {}  # parent Message-ID → [(message, author's addresses)]
        if own_ids:
            early = list(Message.objects.filter(workspace=workspace, parent_message_id__in=own_ids,
                                                direction=Direction.INBOUND).only(
                "id", "message_id", "ticket_id", "author_contact_id", "parent_message_id", "created_at"))
            addresses = _addresses_of({child.author_contact_id for child in early})
            for child in early:
                self.children.setdefault(child.parent_message_id, []).append(
                    (child, addresses.get(child.author_contact_id, set())))
        ticket_ids = {entry[2] for entries in self.known.values() for entry in entries}
        ticket_ids |= {child.ticket_id for entries in self.children.values() for child, _ in entries}
        self.tickets, self.numbers, self.tokens = {}, {}, {}
        self._read_tickets(Q(number__in=numbers) | Q(reply_token__in=tokens) | Q(pk__in=ticket_ids)
                           if tokens or numbers or ticket_ids else None)

    def _read_tickets(self, wanted):
        while wanted is not None:
            found = list(Ticket.objects.filter(wanted, workspace=self.workspace).select_related("contact__company")
                         .select_for_update(of=("self",)).order_by("pk"))
            for ticket in found:
                self.added(ticket)
            # the tickets these were merged into, which stand for them
            missing = {ticket.merged_into_id for ticket in found} - set(self.tickets) - {None}
            wanted = Q(pk__in=missing) if missing else None

    def added(self, ticket):
        """A ticket the batch opened: later mails of the batch may name it."""
        ticket.workspace = self.workspace
        self.tickets[ticket.pk] = ticket
        self.numbers[ticket.number] = ticket
        self.tokens[ticket.reply_token] = ticket

    def added_message(self, message, sender_email):
        """A message the batch stored: later mails of the batch may reply to it, or be its parent."""
        if message.message_id:
            self.known.setdefault(message.message_id, []).append(
                (message.created_at, message.pk, message.ticket_id, message.message_id))
        if message.parent_message_id:
            self.children.setdefault(message.parent_message_id, []).append((message, {sender_email.lower()}))

    def by_token(self, token):
        return self.tokens.get(token)

    def by_pk(self, pk):
        if pk not in self.tickets:
            self._read_tickets(Q(pk=pk))
        return self.tickets.get(pk)

    def newest_known(self, message_ids):
        found = [entry for message_id in set(message_ids) for entry in self.known.get(message_id, ())]
        if not found:
            return None
        created_at, pk, ticket_id, message_id = max(found)
        message = Message(pk=pk, created_at=created_at, ticket_id=ticket_id, message_id=message_id)
        message.ticket = self.by_pk(ticket_id)
        return message

    def by_number(self, number):
        return self.numbers.get(number)

    def by_subject(self, contact, key, since):
        # The batch's own tickets are rows in this transaction too: the query sees them.
        ticket = LookupsOneByOne(self.workspace).by_subject(contact, key, since)
        return self.by_pk(ticket.pk) if ticket is not None else None

    def early_replies(self, message_id):
        entries = self.children.get((message_id or "")[:255], [])
        for child, _ in entries:
            child.ticket = self.by_pk(child.ticket_id)
        return entries

    def mark(self):
        return (dict(self.tickets), dict(self.numbers), dict(self.tokens),
                {key: list(value) for key, value in self.known.items()},
                {key: list(value) for key, value in self.children.items()})

    def undo(self, mark):
        """Forget the tickets and messages a rolled-back savepoint added, and re-read the tickets: the
        rolled-back message may have changed one in memory (reopened it, moved its due times)."""
        tickets, numbers, tokens, known, children = mark
        self.tickets, self.numbers, self.tokens = dict(tickets), dict(numbers), dict(tokens)
        self.known = {key: list(value) for key, value in known.items()}
        self.children = {key: list(value) for key, value in children.items()}
        for ticket in self.tickets.values():
            ticket.refresh_from_db()


def standing_for(ticket, lookups):
    """The ticket that a merged ticket now lives in."""
    for _ in range(MERGE_HOPS):
        if ticket is None or not ticket.merged_into_id:
            return ticket
        ticket = lookups.by_pk(ticket.merged_into_id)
    return ticket


def find_ticket(workspace, mail, sender_contact=None, lookups=None):
    lookups = lookups or LookupsOneByOne(workspace)
    refused = []
    for ticket, reason in _candidates(workspace, mail, sender_contact, lookups):
        ticket = standing_for(ticket, lookups)
        if ticket is None:
            refused.append(f"{reason}: no such ticket")
        elif sender_belongs_to(ticket, mail.from_email, sender_contact):
            return ThreadMatch(ticket, reason)
        else:
            refused.append(f"{reason}: sender {mail.from_email} is not on ticket #{ticket.number}")
    reason = "new ticket" + (f" (refused: {'; '.join(refused)})" if refused else "")
    return ThreadMatch(None, reason[:200])


def _candidates(workspace, mail, sender_contact, lookups):
    """(ticket or None, reason) in the order of trust; each lookup only when the ones before failed."""
    token = reply_token_in(workspace, mail.routing_recipients)
    if token:
        yield lookups.by_token(token), f"reply address token {token}"
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if ids:
        known = lookups.newest_known(ids)
        if known:
            yield known.ticket, f"replies to message <{known.message_id}>"[:200]
    tag = SUBJECT_TAG.search(mail.subject or "")
    if tag:
        yield lookups.by_number(int(tag.group(1))), f"subject tag [#{tag.group(1)}]"
    days = workspace.thread_by_subject_days
    key = reply_subject_key(mail.subject) if days and sender_contact is not None and sender_contact.pk else ""
    if key:
        ticket = lookups.by_subject(sender_contact, key, timezone.now() - datetime.timedelta(days=days))
        if ticket is not None:  # no "no such ticket" refusal: most subjects match nothing
            yield ticket, f"same subject from the same contact within {days} days (weakest rule)"


def early_replies_to(workspace, mail, lookups, *, besides=None):
    """[(earlier reply, its ticket)] of replies that arrived before this mail and name it as their
    parent, on tickets other than `besides`. Only where the reply's author was on this mail's
    From/To/Cc: they had the mail, so they could answer it; a stranger who guessed its Message-ID
    cannot pull it onto their ticket."""
    people = set(people_on(workspace, mail))
    found, seen = [], set()
    for child, authors in lookups.early_replies(mail.message_id):
        ticket = standing_for(child.ticket, lookups)
        if ticket is None or ticket.pk in seen or (besides is not None and ticket.pk == besides.pk):
            continue
        if authors & people:
            seen.add(ticket.pk)
            found.append((child, ticket))
    return sorted(found, key=lambda pair: pair[1].pk)
