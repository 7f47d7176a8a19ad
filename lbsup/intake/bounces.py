"""A bounce is about one of our replies: the reply says so, the address is flagged, and the
representative is told on the ticket, so nobody believes the customer got an answer they never saw.
Bounces stay out of the queue (they are not a customer writing); this is what they change instead."""

import email
import email.policy
from dataclasses import dataclass

from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM
from lbsup.crm.models import ContactEmail
from lbsup.tickets.actions import do_add_note, do_change_status
from lbsup.tickets.models import Direction, Message, Status


@dataclass(frozen=True)
class Bounce:
    original_message_id: str
    recipient: str
    status: str
    action: str
    diagnostic: str


def read_bounce(raw):
    """The delivery report (RFC 3464 multipart/report) in a bounce: which of our messages it returns
    (the Message-ID of the returned message or headers), to whom, and why; None for other mail."""
    from .mailparse import normalize_message_id

    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # noqa: BLE001 - a bounce we cannot read is only a filtered mail, as before
        return None
    fields, original = {}, None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload() if part.is_multipart() else []:
                for name in ("final-recipient", "original-recipient", "action", "status", "diagnostic-code"):
                    if block.get(name) and name not in fields:
                        fields[name] = " ".join(str(block.get(name)).split())
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            inner = part.get_payload(0) if part.is_multipart() else email.message_from_string(
                part.get_payload(decode=True).decode("utf-8", "replace") if part.get_payload(decode=True) else "")
            original = normalize_message_id(str(inner.get("message-id") or "")) if inner is not None else None
    if original is None:
        original = normalize_message_id(str(message.get("in-reply-to") or ""))
    if not fields and original is None:
        return None
    # "rfc822; <a@b>", "smtp; 550 5.2.2 Mailbox full", "5.0.0 (recipient reached …)"
    recipient = (fields.get("final-recipient") or fields.get("original-recipient") or "").rpartition(";")[2]
    diagnostic = fields.get("diagnostic-code", "")
    diagnostic = diagnostic.partition(";")[2] if ";" in diagnostic else diagnostic
    return Bounce(original_message_id=original or "", recipient=recipient.strip().strip("<>").lower()[:320],
                  status=(fields.get("status", "").split() or [""])[0][:20],
                  action=fields.get("action", "").lower()[:20], diagnostic=diagnostic.strip()[:300])


def bounce_summary(bounce):
    """'mailbox full (5.2.2, failed)' from the report's fields, whichever it has."""
    status = ", ".join(part for part in (bounce.status, bounce.action) if part)
    text = bounce.diagnostic or "the receiving mail server refused it"
    return f"{text} ({status})" if status else text


def do_record_bounce(workspace, bounce):
    """Attach a parsed bounce (ParsedMail.bounce) to the reply it is about. Returns the ticket it was
    about, or None when it names no message we sent from this workspace."""
    if bounce is None or not bounce.original_message_id:
        return None
    message = (Message.objects.filter(workspace=workspace, direction=Direction.OUTBOUND,
                                      message_id=bounce.original_message_id)
               .select_related("ticket__workspace", "ticket__contact").first())
    if message is None:
        return None
    ticket = message.ticket
    summary = bounce_summary(bounce)[:250]
    failed = (bounce.action or "failed").lower() != "delayed"
    outbound = getattr(message, "outbound", None)
    recipient = (bounce.recipient or (outbound.to_email if outbound else "")).lower()
    now = timezone.now()
    if outbound is not None:
        type(outbound).objects.filter(pk=outbound.pk).update(
            bounce=(f"bounced: {summary}" if failed else f"delayed: {summary}")[:300], bounced_at=now)
    if failed and recipient:
        ContactEmail.objects.filter(workspace=workspace, email=recipient).update(
            bounced_at=now, bounce_reason=summary[:300])
    when = timezone.localtime(message.created_at, workspace.tz).strftime("%b %d, %H:%M")
    if failed:
        text = (f"Delivery failed: the reply of {when} did not reach {recipient or 'the customer'}: {summary}. "
                "The customer has not seen it; check the address or reach them another way.")
    else:
        text = f"Delivery delayed: the reply of {when} to {recipient or 'the customer'} is not delivered yet: {summary}."
    do_add_note(SYSTEM, ticket, text)
    record_event(workspace, SYSTEM, "mail.bounced", message, ticket=ticket.number, recipient=recipient,
                 status=bounce.status, action=bounce.action, diagnostic=(bounce.diagnostic or "")[:300])
    if failed and ticket.status in (Status.WAITING, Status.RESOLVED, Status.CLOSED):
        do_change_status(SYSTEM, ticket, Status.OPEN, reason=f"our reply bounced: {summary}"[:300])
    return ticket
