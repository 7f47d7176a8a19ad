"""A bounce is about one of our replies: the reply says so, the address is flagged, and the
representative is told on the ticket, so nobody believes the customer got an answer they never saw.
Bounces stay out of the queue (they are not a customer writing); this is what they change instead."""

from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM
from lbsup.crm.models import ContactEmail
from lbsup.tickets.actions import do_add_note, do_change_status
from lbsup.tickets.models import Direction, Message, Status


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
