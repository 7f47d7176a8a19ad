"""Sending a reply: only a named person approves; the worker sends exactly once."""

import datetime
import smtplib
import socket
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.cache import cache
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM, is_person
from lbsup.core.headers import one_line
from lbsup.intake.addresses import reply_address, split_address
from lbsup.tickets.actions import do_mark_sent, do_record_outbound
from lbsup.tickets.models import Direction
from lbsup.workspaces.models import DESK_ROLES, Membership

from . import smtp
from .models import OutboundEmail

MAX_ATTEMPTS = 8
STUCK_AFTER = datetime.timedelta(minutes=10)


class NothingToSend(ValueError):
    pass


class Unsendable(NothingToSend):
    """The reply could never be sent as it stands (a header, an address): said to the
    person approving it, not found out by the worker."""


# The question is asked only for a Unicode local part, but then on every edit check, and
# from inside a transaction (a draft is proposed in one): answers are kept, the wait is short.
SMTPUTF8_ANSWER_KEPT = 300  # seconds
SMTPUTF8_UNKNOWN_KEPT = 60
SMTPUTF8_ASK_TIMEOUT = 3


def sending_connection(**options):
    """The configured mail backend; Django's own SMTP backend becomes ours, which can send
    to a Unicode local part (lbsup.outbound.smtp)."""
    backend = settings.EMAIL_BACKEND
    return get_connection(smtp.THIS_BACKEND if backend == smtp.DJANGO_SMTP else backend, fail_silently=False,
                          **options)


def server_offers_smtputf8():
    """True, False, or None when the server cannot be asked right now. A backend that is
    not SMTP (console, file, tests' memory) carries any address."""
    connection = sending_connection(timeout=SMTPUTF8_ASK_TIMEOUT)
    if not hasattr(connection, "offers_smtputf8"):
        return True
    key = f"lbsup:smtputf8:{connection.host}:{connection.port}"
    answer = cache.get(key)
    if answer is None:
        try:
            answer = "yes" if connection.offers_smtputf8() else "no"
        except (smtplib.SMTPException, OSError):
            answer = "unknown"
        cache.set(key, answer, SMTPUTF8_UNKNOWN_KEPT if answer == "unknown" else SMTPUTF8_ANSWER_KEPT)
    return {"yes": True, "no": False}.get(answer)


def recipient_problem(address, *, ask_server=True):
    """Why a reply to `address` cannot be sent, for the person reviewing it; None when it can
    (or when the mail server cannot be asked now: the worker then finds out and says so)."""
    try:
        needs_utf8 = smtp.needs_smtputf8(address)
    except ValueError:
        return f"The customer's address {address!r} is not a valid email address; correct it on the contact first"
    if needs_utf8 and ask_server and server_offers_smtputf8() is False:
        return (f"The customer's address {address} has non-ASCII characters before the @, and the outgoing "
                "mail server does not offer SMTPUTF8, so this reply cannot be sent. Ask the customer for "
                "another address, or enable SMTPUTF8 on the mail server.")
    return None


def outbound_problem(outbound, *, ask_server=True):
    """Build the whole message as the worker will (headers, addresses) without sending;
    why it cannot be sent, or None."""
    problem = recipient_problem(outbound.to_email, ask_server=ask_server)
    if problem:
        return problem
    try:
        email = build_email(outbound)
        email.message()
        for address in (email.from_email, *email.reply_to, *email.cc):
            sanitize_address(address, email.encoding or "utf-8")
    except (BadHeaderError, ValueError) as error:
        return f"This reply cannot be made into a valid email: {error}"
    return None


def backoff(attempts):
    """30 s, 1 min, 2 min, … capped at one hour."""
    return datetime.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def default_cc(ticket):
    """The ticket's participants other than the customer: a reply-all keeps the conversation together."""
    own = {email.lower() for email in ticket.contact.emails.values_list("email", flat=True)}
    return [address for address in ticket.participants or () if address not in own]


def chosen_cc(ticket, cc):
    """cc: the addresses the representative kept (None: all of default_cc). Only participants can
    be copied: a reply is not a way to mail an address that was never on the conversation."""
    allowed = default_cc(ticket)
    if cc is None:
        return allowed
    wanted = {address.strip().lower() for address in cc if address.strip()}
    unknown = sorted(wanted - set(allowed))
    if unknown:
        raise Unsendable(f"Only people on the conversation can be copied; not {', '.join(unknown)}")
    return [address for address in allowed if address in wanted]


def do_approve_and_send(actor, ticket, *, text, approval_key=None, cc=None):
    """A representative approves this text as the reply; it is queued for sending.
    A second approval with the same approval_key (the same draft) returns the first.
    cc: the participants to copy (None: all of them but the customer)."""
    if not is_person(actor):
        raise PermissionError("Only a person can approve a reply to a customer")
    if not Membership.objects.filter(workspace_id=ticket.workspace_id, user=actor, role__in=DESK_ROLES).exists():
        raise PermissionError("Only a member who works tickets here can approve a reply")
    if not text.strip():
        raise NothingToSend("The reply is empty")
    to_email = ticket.contact.primary_email
    if not to_email:
        raise NothingToSend("The customer has no email address")
    key = approval_key or make_msgid()
    existing = OutboundEmail.objects.filter(workspace_id=ticket.workspace_id, approval_key=key).first()
    if existing:
        return existing
    cc = [address for address in chosen_cc(ticket, cc) if address != to_email.lower()]
    for address in (to_email, *cc):
        problem = recipient_problem(address)
        if problem:
            raise Unsendable(problem)
    try:
        with transaction.atomic():
            outbound = _queue(actor, ticket, text=text, to_email=to_email, cc=cc, key=key)
            # The rest of the message (headers) is checked here too, while the person is waiting.
            problem = outbound_problem(outbound, ask_server=False)
            if problem:
                raise Unsendable(problem)
    except IntegrityError:  # approved twice at the same moment: the other approval won
        return OutboundEmail.objects.get(workspace_id=ticket.workspace_id, approval_key=key)
    from .tasks import send_outbound_job

    # robust: with the job queue down the approval still stands (logged), and send_due_replies sends it.
    transaction.on_commit(lambda: send_outbound_job(outbound.pk), robust=True)
    return outbound


def _queue(actor, ticket, *, text, to_email, cc, key):
    workspace = ticket.workspace
    last_inbound = ticket.messages.filter(direction=Direction.INBOUND).exclude(message_id="").order_by(
        "-created_at").first()
    in_reply_to = last_inbound.message_id if last_inbound else ""
    references = " ".join((last_inbound.references.split() + [in_reply_to]) if last_inbound else [])
    domain = split_address(workspace.support_email)[2] or "lbsup.localhost"
    message = do_record_outbound(
        actor, ticket, text=text, message_id=make_msgid(domain=domain).strip("<>"), in_reply_to=in_reply_to,
        references=references, queued=True,
    )
    subject = one_line(ticket.subject)  # a ticket stored before subjects were cleaned on the way in
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    outbound = OutboundEmail.objects.create(
        workspace=workspace, ticket=ticket, message=message, approval_key=key, approved_by=actor,
        approved_at=timezone.now(), to_email=to_email, cc_emails=cc, subject=f"{subject} [#{ticket.number}]"[:400],
        next_attempt_at=timezone.now(),
    )
    record_event(workspace, actor, "reply.approved", outbound, ticket=ticket.number, to=to_email, cc=cc)
    return outbound


def claim(outbound_id):
    """approved → sending for exactly one worker (a conditional UPDATE)."""
    now = timezone.now()
    return OutboundEmail.objects.filter(
        pk=outbound_id, state=OutboundEmail.State.APPROVED, next_attempt_at__lte=now
    ).update(state=OutboundEmail.State.SENDING, attempts=F("attempts") + 1, attempt_started_at=now) == 1


def build_email(outbound):
    ticket, message, workspace = outbound.ticket, outbound.message, outbound.workspace
    address = reply_address(workspace, ticket)
    headers = {"Message-ID": f"<{message.message_id}>", "Auto-Submitted": "no"}
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to}>"
    if message.references:
        headers["References"] = " ".join(f"<{ref}>" for ref in message.references.split())
    email = EmailMultiAlternatives(
        subject=outbound.subject, body=message.text, from_email=formataddr((one_line(workspace.name), address)),
        to=[outbound.to_email], cc=outbound.cc_emails, reply_to=[address], headers=headers,
    )
    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in message.text.split("\n\n"))
    email.attach_alternative(f"<!doctype html><html><body>{paragraphs}</body></html>", "text/html")
    return email


def do_send(outbound_id, connection=None):
    """Send one claimed reply. Returns the row in its new state; never sends a row it did not claim.
    A reply that cannot become a valid email fails before it is claimed, with the reason for
    a person, instead of breaking mid-send (which would leave it for needs_check)."""
    outbound = OutboundEmail.objects.select_related("ticket", "message", "workspace", "ticket__contact").get(
        pk=outbound_id)
    if outbound.state == OutboundEmail.State.APPROVED:
        problem = outbound_problem(outbound, ask_server=False)  # the send itself asks the server
        if problem:
            return _refused_before_sending(outbound, problem)
    if not claim(outbound_id):
        outbound.refresh_from_db()
        return outbound
    outbound.refresh_from_db(fields=["state", "attempts", "attempt_started_at"])
    try:
        (connection or sending_connection()).send_messages([build_email(outbound)])
    except smtp.SmtpUtf8Missing as error:
        return _failed_attempt(outbound, str(error), temporary=False)
    except (BadHeaderError, ValueError) as error:  # outbound_problem should have caught it
        return _failed_attempt(outbound, f"not a valid email: {error}", temporary=False)
    except smtplib.SMTPResponseException as error:
        return _failed_attempt(outbound, f"{error.smtp_code} {error.smtp_error!r}", temporary=400 <= error.smtp_code < 500)
    except smtplib.SMTPRecipientsRefused as error:
        return _failed_attempt(outbound, f"recipient refused: {error.recipients}", temporary=False)
    except (smtplib.SMTPException, OSError, socket.timeout) as error:
        return _failed_attempt(outbound, f"{type(error).__name__}: {error}", temporary=True)
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=outbound.pk).update(state=OutboundEmail.State.SENT, sent_at=timezone.now(),
                                                            last_error="")
        do_mark_sent(outbound.message)
    outbound.refresh_from_db()
    return outbound


def _refused_before_sending(outbound, problem):
    if OutboundEmail.objects.filter(pk=outbound.pk, state=OutboundEmail.State.APPROVED).update(
            state=OutboundEmail.State.FAILED, last_error=problem[:2000]):
        record_event(outbound.workspace, SYSTEM, "reply.send_failed", outbound, error=problem[:500],
                     attempts=outbound.attempts, before_sending=True)
    outbound.refresh_from_db()
    return outbound


def _failed_attempt(outbound, error, *, temporary):
    final = not temporary or outbound.attempts >= MAX_ATTEMPTS
    state = OutboundEmail.State.FAILED if final else OutboundEmail.State.APPROVED
    OutboundEmail.objects.filter(pk=outbound.pk, state=OutboundEmail.State.SENDING).update(
        state=state, last_error=error[:2000], next_attempt_at=timezone.now() + backoff(outbound.attempts),
    )
    record_event(outbound.workspace, SYSTEM, "reply.send_failed" if final else "reply.send_retrying", outbound,
                 error=error[:500], attempts=outbound.attempts)
    outbound.refresh_from_db()
    return outbound


def flag_stuck_sends():
    """A row still `sending` long after its attempt began: the process died mid-send.
    The server may have accepted the mail, so a person decides; we never resend blindly."""
    cutoff = timezone.now() - STUCK_AFTER
    stuck = list(OutboundEmail.objects.filter(state=OutboundEmail.State.SENDING, attempt_started_at__lt=cutoff))
    for outbound in stuck:
        if OutboundEmail.objects.filter(pk=outbound.pk, state=OutboundEmail.State.SENDING).update(
                state=OutboundEmail.State.NEEDS_CHECK,
                last_error="the worker stopped during sending; check the mailbox's Sent folder"):
            record_event(outbound.workspace, SYSTEM, "reply.needs_check", outbound)
    return stuck


@transaction.atomic
def do_resolve_check(actor, outbound, *, was_sent):
    """A person looked: mark it sent, or queue it again."""
    if not is_person(actor):
        raise PermissionError("A person decides")
    if outbound.state not in (OutboundEmail.State.NEEDS_CHECK, OutboundEmail.State.FAILED):
        raise ValueError("Only a reply that failed or needs checking can be resolved")
    if was_sent:
        outbound.state = OutboundEmail.State.SENT
        outbound.sent_at = timezone.now()
        do_mark_sent(outbound.message)
    else:
        outbound.state = OutboundEmail.State.APPROVED
        outbound.next_attempt_at = timezone.now()
    outbound.save(update_fields=["state", "sent_at", "next_attempt_at"])
    record_event(outbound.workspace, actor, "reply.check_resolved", outbound, was_sent=was_sent)
    if not was_sent:
        from .tasks import send_outbound_job

        transaction.on_commit(lambda: send_outbound_job(outbound.pk), robust=True)  # see do_approve_and_send
    return outbound
