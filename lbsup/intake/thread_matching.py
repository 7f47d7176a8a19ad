"""Which ticket an inbound mail belongs to, and why, in a fixed order of trust:
1. the ticket token in the reply address (support+<token>@…),
2. one of our own outbound Message-IDs in In-Reply-To/References,
3. a [#N] ticket tag in the subject,
otherwise a new ticket. A match is refused when the sender is neither the ticket's
contact nor from the contact's company, so a guessed token or tag cannot attach mail
to someone else's ticket."""

import re
from dataclasses import dataclass

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


def find_ticket(workspace, mail, sender_contact=None):
    refused = []
    candidates = []
    token = reply_token_in(workspace, mail.routing_recipients)
    if token:
        candidates.append((Ticket.objects.filter(workspace=workspace, reply_token=token).first(),
                           f"reply address token {token}"))
    ids = [*mail.in_reply_to, *reversed(mail.references)]
    if ids:
        ours = (Message.objects.filter(workspace=workspace, direction=Direction.OUTBOUND, message_id__in=ids)
                .select_related("ticket").order_by("-created_at").first())
        if ours:
            candidates.append((ours.ticket, f"replies to our message <{ours.message_id}>"))
    tag = SUBJECT_TAG.search(mail.subject or "")
    if tag:
        tagged = (Ticket.objects.filter(workspace=workspace, number=int(tag.group(1)))
                  .select_related("contact__company").first())
        if tagged is not None:
            tagged.workspace = workspace  # known: no join for it
        candidates.append((tagged, f"subject tag [#{tag.group(1)}]"))
    for ticket, reason in candidates:
        if ticket is None:
            refused.append(f"{reason}: no such ticket")
        elif sender_belongs_to(ticket, mail.from_email, sender_contact):
            return ThreadMatch(ticket, reason)
        else:
            refused.append(f"{reason}: sender {mail.from_email} is not on ticket #{ticket.number}")
    reason = "new ticket" + (f" (refused: {'; '.join(refused)})" if refused else "")
    return ThreadMatch(None, reason[:200])
