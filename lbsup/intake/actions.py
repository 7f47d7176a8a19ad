"""Inbound mail: raw bytes first, then parse → dedupe → thread → store, then triage.

Two steps on purpose: do_receive commits the bytes alone, so a crash in any later
step leaves a RawMessage in state `received` that do_process (or the recovery job)
picks up again. Both steps are idempotent."""

import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from lbsup.audit.actions import events_in_bulk, record_event
from lbsup.audit.actors import SYSTEM, is_person
from lbsup.core.rows import insert_row, update_rows
from lbsup.crm.actions import do_create_contact, do_find_or_create_contact, normalize_email
from lbsup.crm.models import Company, ContactEmail
from lbsup.tickets.actions import do_add_customer_message, do_create_ticket, do_merge_tickets
from lbsup.tickets.models import Attachment, Channel, Message
from lbsup.webhooks.actions import endpoints_read_once

from .bounces import bounce_summary, do_record_bounce
from .mailparse import MailRejected, parse_message
from .models import InboundChannel, RawMessage
from .thread_matching import (LookupsOneByOne, LookupsReadOnce, ThreadMatch, early_replies_to, find_ticket,
                              parent_of, people_on, sender_belongs_to, standing_for)

log = logging.getLogger(__name__)

MAX_RAW_BYTES = 30 * 1024 * 1024
# Messages per do_ingest_batch call from the CLI; the IMAP poll passes what one FETCH returned.
# Big enough that the per-batch commits and lookups are spread thin, small enough that a batch's
# transaction stays short (other writers wait on SQLite) and a crash repeats little work.
INGEST_BATCH = 100
TICKET_CHANNEL = {InboundChannel.WEB: Channel.WEB, InboundChannel.API: Channel.API}
FINAL_STATES = (RawMessage.State.PROCESSED, RawMessage.State.DUPLICATE, RawMessage.State.FILTERED,
                RawMessage.State.REJECTED)
NOT_STORED = "could not store the file: "  # an attachment's skipped_reason when the disk refused it


class MessageTooLarge(ValueError):
    pass


class NotAllowedInThisState(ValueError):
    """The raw message is not in a state this step applies to (e.g. retrying processed mail)."""


def do_receive(workspace, raw, *, channel, source=None):
    """Store the bytes exactly as they arrived (or find the same bytes stored before)."""
    if len(raw) > MAX_RAW_BYTES:
        raise MessageTooLarge(f"message is {len(raw)} bytes; the limit is {MAX_RAW_BYTES}")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        with transaction.atomic():
            return RawMessage.objects.create(
                workspace=workspace, channel=channel, content_sha256=digest, raw=raw, size=len(raw),
                source=source or {},
            )
    except IntegrityError:
        return RawMessage.objects.get(workspace=workspace, content_sha256=digest)


def do_ingest(workspace, raw, *, channel, source=None):
    raw_message = do_receive(workspace, raw, channel=channel, source=source)
    return do_process(raw_message)


@dataclass
class Ingested:
    """One message of a batch: its raw message (None when it could not be stored) and the error,
    if storing or processing failed (processing failures are also on the raw message, state `failed`)."""

    raw_message: RawMessage | None
    error: str = ""


def do_ingest_batch(workspace, raws, *, channel, sources=None):
    """Many messages at once (an IMAP poll, `lbsup ingest`): the same steps as do_ingest, with
    the bytes of the whole batch committed in one transaction before any processing (raw first
    still holds), then every message processed in one transaction with a savepoint each, so a
    message that fails is marked failed with its error and the others are kept. One Ingested
    per raw, in order."""
    sources = sources or [{}] * len(raws)
    received = do_receive_batch(workspace, raws, channel=channel, sources=sources)
    stored = {item.raw_message.pk: item.raw_message for item in received if item.raw_message is not None}
    errors = _process_batch(workspace, list(stored.values()))
    for item in received:
        if item.raw_message is not None:
            # The same bytes twice in one batch are one row: both items show its final state.
            item.raw_message = stored[item.raw_message.pk]
            item.error = errors.get(item.raw_message.pk, "")
    return received


def do_receive_batch(workspace, raws, *, channel, sources):
    """do_receive for many messages in one transaction (one commit, one fsync)."""
    items, digests = [], []
    for raw in raws:
        too_large = len(raw) > MAX_RAW_BYTES
        items.append(Ingested(None, f"message is {len(raw)} bytes; the limit is {MAX_RAW_BYTES}" if too_large else ""))
        digests.append(None if too_large else hashlib.sha256(raw).hexdigest())
    try:
        with transaction.atomic():
            known = {row.content_sha256: row for row in RawMessage.objects.filter(
                workspace=workspace, content_sha256__in={digest for digest in digests if digest})}
            new = {}
            for raw, source, digest in zip(raws, sources, digests):
                if digest and digest not in known and digest not in new:
                    new[digest] = RawMessage(workspace=workspace, channel=channel, content_sha256=digest, raw=raw,
                                             size=len(raw), source=source or {})
            RawMessage.objects.bulk_create(new.values())
    except IntegrityError:
        # Another worker stored some of the same bytes a moment ago: one at a time, as do_receive does.
        known, new = {}, {}
        for raw, source, digest in zip(raws, sources, digests):
            if digest and digest not in known:
                known[digest] = do_receive(workspace, raw, channel=channel, source=source)
    for item, digest in zip(items, digests):
        if digest:
            item.raw_message = known.get(digest) or new[digest]
    return items


def do_process(raw_message):
    """Turn stored bytes into a ticket message. Safe to call again at any time."""
    if raw_message.state in FINAL_STATES:
        return raw_message
    try:
        mail = parse_message(bytes(raw_message.raw))
    except MailRejected as rejected:
        return _finish(raw_message, RawMessage.State.REJECTED, detail=rejected.reason)
    try:
        try:
            with transaction.atomic():
                return _store(raw_message, mail)
        except IntegrityError:
            # The same Message-ID was stored by another worker a moment ago: now it is a duplicate.
            with transaction.atomic():
                return _store(raw_message, mail)
    except Exception as error:  # noqa: BLE001 - recorded and shown with a retry button; the job retries too
        _mark_failed(raw_message, mail, error)
        raise


def _mark_failed(raw_message, mail, error):
    log.exception("Processing raw message %s failed", raw_message.pk)
    # Sender and subject too, so the failed row on the intake page says which mail it is.
    RawMessage.objects.filter(pk=raw_message.pk).update(
        state=RawMessage.State.FAILED, detail=f"{type(error).__name__}: {error}"[:2000],
        attempts=raw_message.attempts + 1, subject=(mail.subject or "")[:300],
        from_email=(mail.from_email or "")[:320],
    )
    raw_message.refresh_from_db()


class _Batch:
    """What the messages of one batch share: the workspace's contacts, the Message-IDs already
    stored and the tickets the mails name (looked up once for the whole batch, then kept up to date
    as messages are stored), the SLA clocks (recomputed once per ticket) and the triage jobs
    (enqueued in one write)."""

    def __init__(self, workspace, mails, events):
        from lbsup.followups.hooks import ClockBatch

        self.workspace = workspace
        emails = {normalize_email(mail.from_email) for mail in mails if mail.from_email}
        self.contacts = {row.email: row.contact for row in ContactEmail.objects.filter(
            workspace=workspace, email__in=emails).select_related("contact")}
        # For the senders not known yet: a new contact joins the company that owns its domain.
        domains = {email.rpartition("@")[2] for email in emails if email not in self.contacts} - {""}
        self.companies = {company.domain: company for company in Company.objects.filter(
            workspace=workspace, domain__in=domains)} if domains else {}
        self.events = events  # the audit events this batch writes in one INSERT
        keys = {key for mail in mails for key in (mail.dedup_key[:255], _variant_key(mail))}
        self.messages = {message.dedup_key: message for message in Message.objects.filter(
            workspace=workspace, dedup_key__in=keys).select_related("ticket")}
        self.threads = LookupsReadOnce(workspace, mails)
        self.clocks = ClockBatch()
        self.triage = []
        self.finished = []  # raw messages whose final state is written once, at the end of the batch
        self.files = []  # attachment files written, removed again if their rows are rolled back

    def stored_message(self, dedup_key):
        return self.messages.get(dedup_key)

    def contact(self, email, name):
        """As do_find_or_create_contact, without its lookups: the batch read every sender's address
        at its start, in this transaction. Another worker adding the same address meanwhile breaks
        the unique key, and the message is stored again with fresh lookups."""
        email = normalize_email(email)
        if email not in self.contacts:
            self.contacts[email] = do_create_contact(SYSTEM, self.workspace, name=name, emails=[email],
                                                     company=self.companies.get(email.rpartition("@")[2]))
        return self.contacts[email]

    def mark(self):
        return (dict(self.contacts), dict(self.messages), self.clocks.mark(), len(self.events),
                self.threads.mark(), len(self.finished), len(self.files))

    def undo(self, mark):
        """Forget what a rolled-back savepoint added."""
        contacts, messages, clocks, events, threads, finished, files = mark
        self.contacts, self.messages = dict(contacts), dict(messages)
        self.clocks.undo(clocks)
        del self.events[events:]
        self.threads.undo(threads)
        del self.finished[finished:]
        self.remove_files(files)

    def remove_files(self, start):
        for storage, name in self.files[start:]:
            try:
                storage.delete(name)
            except OSError:
                log.warning("could not remove the attachment file %s of a rolled-back message", name)
        del self.files[start:]

    def write_final_states(self):
        update_rows(RawMessage, self.finished, FINISHED_FIELDS)


def _process_batch(workspace, raw_messages):
    """do_process for many raw messages; returns {raw message pk: error} for those that failed.

    First without a savepoint per message (two statements less each: 309-333 -> 401-410 messages/s
    on PostgreSQL in bench/ingest.py): one failure rolls the whole attempt back, and the batch is
    processed again with a savepoint per message, where a failing message is marked failed and the
    others are kept. If even that fails as a whole, the messages are processed one by one."""
    todo, mails = [], {}
    for raw_message in raw_messages:
        if raw_message.state in FINAL_STATES:
            continue
        todo.append(raw_message)
        try:
            mails[raw_message.pk] = parse_message(bytes(raw_message.raw))
        except MailRejected as rejected:
            mails[raw_message.pk] = rejected
    if not todo:
        return {}
    for careful in (False, True):
        try:
            return _process_batch_once(workspace, todo, mails, careful=careful)
        except Exception:  # noqa: BLE001 - the bytes are committed; the next way round gets each message
            if careful:
                log.exception("Processing a batch of %s messages failed; processing them one by one", len(todo))
            else:
                log.info("A batch of %s messages failed in one go; again with a savepoint per message", len(todo))
            for raw_message in todo:
                raw_message.refresh_from_db()  # the attempt changed them in memory only
    errors = {}
    for raw_message in todo:
        try:
            do_process(raw_message)
        except Exception as error:  # noqa: BLE001 - do_process has marked it failed with the error
            errors[raw_message.pk] = f"{type(error).__name__}: {error}"
    return errors


def _process_batch_once(workspace, todo, mails, *, careful):
    errors = {}
    batch = None
    try:
        with transaction.atomic(), events_in_bulk() as events, endpoints_read_once():
            batch = _Batch(workspace, [mail for mail in mails.values() if not isinstance(mail, MailRejected)],
                           events)
            with batch.clocks.collecting():
                for raw_message in todo:
                    error = _process_one(raw_message, mails[raw_message.pk], batch, careful=careful)
                    if error:
                        errors[raw_message.pk] = error
                batch.clocks.flush()
            batch.write_final_states()
            if batch.triage:
                _enqueue_triage(batch.triage)
    except BaseException:
        if batch is not None:
            batch.remove_files(0)
        raise
    return errors


def _process_one(raw_message, mail, batch, *, careful):
    if isinstance(mail, MailRejected):
        _finish(raw_message, RawMessage.State.REJECTED, detail=mail.reason, batch=batch)
        return ""
    if not careful:
        _store(raw_message, mail, batch=batch)
    else:
        mark = batch.mark()
        try:
            try:
                with transaction.atomic():
                    _store(raw_message, mail, batch=batch)
            except IntegrityError:
                # Another worker stored the same Message-ID (or contact) meanwhile: look everything up afresh.
                batch.undo(mark)
                with transaction.atomic():
                    _store(raw_message, mail, batch=batch, fresh=True)
        except Exception as error:  # noqa: BLE001 - marked failed with its error; the others go on
            batch.undo(mark)
            _mark_failed(raw_message, mail, error)
            return f"{type(error).__name__}: {error}"
    if raw_message.state == RawMessage.State.PROCESSED:
        batch.messages[raw_message.dedup_key] = raw_message.message
        batch.triage.append(raw_message.message.pk)
    return ""


def _enqueue_triage(message_ids):
    from lbsup.core.queue import enqueue_many
    from lbsup.triage.tasks import triage_message_job

    def enqueue():
        enqueue_many([(triage_message_job, (pk,)) for pk in message_ids])

    # robust, as for a single message: with the queue down the triage is logged as lost and the
    # messages wait for a person without a draft.
    transaction.on_commit(enqueue, robust=True)


FINISHED_FIELDS = ["state", "detail", "message", "attempts", "dedup_key", "subject", "from_email"]


def _finish(raw_message, state, *, detail="", message=None, mail=None, batch=None, dedup_key=None):
    """batch: leave the write to the batch's write_final_states (one statement for all its messages)."""
    raw_message.state = state
    raw_message.detail = detail[:2000]
    raw_message.message = message
    raw_message.attempts += 1
    if mail is not None:
        raw_message.dedup_key = dedup_key or mail.dedup_key[:255]
        raw_message.subject = (mail.subject or "")[:300]
        raw_message.from_email = (mail.from_email or "")[:320]
    if batch is not None:
        batch.finished.append(raw_message)
    else:
        raw_message.save(update_fields=FINISHED_FIELDS)
    return raw_message


def _store(raw_message, mail, *, accepted_by=None, batch=None, fresh=False):
    """batch: the _Batch this message is part of (its caller enqueues the triage); fresh: look up
    contacts and Message-IDs in the database, not in the batch's copy."""
    workspace = raw_message.workspace
    dedup_key = mail.dedup_key[:255]
    if batch is not None and not fresh:
        stored = batch.stored_message
    else:
        def stored(key):
            return Message.objects.filter(workspace=workspace, dedup_key=key).select_related("ticket").first()
    existing = stored(dedup_key)
    same_id_other_content = None
    if (existing and existing.content_sha256 and existing.content_sha256 != mail.content_sha256
            and not (mail.message_id or "").endswith(KEYED_SUBMISSION)):
        # Gateways that reuse Message-IDs, a mail sent again with the photo added: another message,
        # which a person must see. Its content is its key, so its own re-delivery is a duplicate.
        same_id_other_content, dedup_key = existing, _variant_key(mail)
        existing = stored(dedup_key)
    if existing:
        return _finish(raw_message, RawMessage.State.DUPLICATE, mail=mail, message=existing, batch=batch,
                       detail=f"same message as ticket #{existing.ticket.number}", dedup_key=dedup_key)
    if mail.auto and accepted_by is None:
        record_event(workspace, SYSTEM, "mail.filtered", raw_message, kind=str(mail.auto), reason=mail.auto_reason)
        detail = f"{mail.auto}: {mail.auto_reason}"
        bounced = do_record_bounce(workspace, mail.bounce)
        if bounced is not None:
            detail = f"bounce of our reply on #{bounced.number}: {bounce_summary(mail.bounce)}"
        return _finish(raw_message, RawMessage.State.FILTERED, mail=mail, batch=batch, detail=detail)
    if not mail.from_email:
        return _finish(raw_message, RawMessage.State.REJECTED, mail=mail, batch=batch, detail="no sender address")

    if batch is not None and not fresh:
        contact = batch.contact(mail.from_email, mail.from_name)
    else:
        contact = do_find_or_create_contact(SYSTEM, workspace, mail.from_email, mail.from_name)
    lookups = batch.threads if batch is not None and not fresh else LookupsOneByOne(workspace)
    match = find_ticket(workspace, mail, sender_contact=contact, lookups=lookups)
    notes = list(mail.problems)
    if same_id_other_content is not None:
        first = standing_for(lookups.by_pk(same_id_other_content.ticket_id), lookups)
        notes.append(f"same Message-ID as a message on ticket #{first.number}, with other content: "
                     "kept as a message of its own")
        if match.ticket is None and sender_belongs_to(first, mail.from_email, contact):
            match = ThreadMatch(first, f"same Message-ID as an earlier message of #{first.number}, other content")
    participants = people_on(workspace, mail)
    fields = {
        "text": mail.new_text or mail.text,
        "quoted_text": "\n\n".join(part for part in (mail.quoted_text, mail.signature) if part),
        "html": mail.html,
        "at": mail.date if mail.date and mail.date <= timezone.now() else timezone.now(),
        "message_id": mail.message_id or "",
        "in_reply_to": " ".join(mail.in_reply_to)[:998],
        "references": " ".join(mail.references),
        "dedup_key": dedup_key,
        "thread_reason": match.reason,
        "parent_message_id": parent_of(mail) or None,
        "content_sha256": mail.content_sha256,
        "participants": participants,
    }
    if match.ticket is not None:
        message = do_add_customer_message(SYSTEM, match.ticket, author_contact=contact, **fields)
    else:
        ticket = do_create_ticket(
            SYSTEM, workspace, contact=contact, subject=mail.subject or "(no subject)",
            channel=TICKET_CHANNEL.get(raw_message.channel, Channel.EMAIL), **fields,
        )
        message = ticket.first_message
        if batch is not None:
            batch.threads.added(ticket)
    lookups.added_message(message, mail.from_email)
    # Replies that came in before this mail and opened tickets of their own belong here now.
    for child, ticket in early_replies_to(workspace, mail, lookups, besides=message.ticket):
        do_merge_tickets(SYSTEM, ticket, message.ticket,
                         reason=f"reply <{child.message_id}> arrived before the message it answers")
        notes.append(f"ticket #{ticket.number} merged in: its reply <{child.message_id}> answers this message")
    notes += _store_attachments(message, mail.attachments, written=batch.files if batch is not None else None)
    if accepted_by is not None:
        notes.insert(0, f"accepted by {accepted_by.get_username()} although it looked automatic "
                        f"({mail.auto}: {mail.auto_reason})")
    _finish(raw_message, RawMessage.State.PROCESSED, mail=mail, message=message, batch=batch,
            detail="; ".join(notes)[:2000], dedup_key=dedup_key)
    if batch is not None:
        return raw_message
    from lbsup.triage.tasks import triage_message_job

    # robust: the message is stored whatever happens to the job queue; with the queue down the
    # triage is logged as lost and the message waits for a person without a draft.
    transaction.on_commit(lambda: triage_message_job(message.pk), robust=True)
    return raw_message


def _variant_key(mail):
    return f"sha256:{mail.content_sha256}"


RETRYABLE_STATES = (RawMessage.State.RECEIVED, RawMessage.State.FAILED)


def do_retry_raw_message(actor, raw_message):
    """A person asks to process stored mail again (after a failure, or mail stuck unprocessed).

    Returns the raw message in its new state; a failure again is not raised but left on the
    message (state `failed`, the error in `detail`) so the page can show it next to the button."""
    if not is_person(actor):
        raise PermissionError("Only a person retries mail from the intake page; the jobs retry on their own")
    if raw_message.state not in RETRYABLE_STATES:
        raise NotAllowedInThisState(f"Mail in state {raw_message.state!r} is already settled; nothing to retry")
    record_event(raw_message.workspace, actor, "mail.retried", raw_message, state=raw_message.state,
                 attempts=raw_message.attempts, last_error=raw_message.detail[:500])
    try:
        return do_process(raw_message)
    except Exception:  # noqa: BLE001 - do_process has recorded the error on the message
        raw_message.refresh_from_db()
        return raw_message


def do_accept_filtered(actor, raw_message):
    """A person decides that mail filtered as an auto-reply, bounce or list mail is real
    customer mail: it joins (or opens) a ticket like any other message."""
    if not is_person(actor):
        raise PermissionError("Only a person can overrule the auto-reply filter")
    if raw_message.state != RawMessage.State.FILTERED:
        raise NotAllowedInThisState(f"Only filtered mail can be accepted; this one is {raw_message.state!r}")
    mail = parse_message(bytes(raw_message.raw))  # it parsed before, so it parses again
    with transaction.atomic():
        record_event(raw_message.workspace, actor, "mail.accepted", raw_message, filtered_because=raw_message.detail)
        return _store(raw_message, mail, accepted_by=actor)


HAND_TEXT_LIMIT = 200_000  # characters of an unreadable mail shown as the message's text


def do_assign_raw_message(actor, raw_message, *, ticket=None, from_email=""):
    """A person puts mail that could not be read (rejected) or was filtered onto a ticket by hand:
    an existing `ticket` of the workspace, or a new one from `from_email`. The message's text is the
    mail's bytes as far as they decode (it may be all a person can read of it) and the original is
    attached unchanged, so nothing the customer sent is lost."""
    from email.utils import parseaddr

    from lbsup.tickets.models import Ticket

    if not is_person(actor):
        raise PermissionError("Only a person assigns mail by hand")
    if raw_message.state not in (RawMessage.State.REJECTED, RawMessage.State.FILTERED):
        raise NotAllowedInThisState(f"Only rejected or filtered mail is assigned by hand; this one is {raw_message.state!r}")
    workspace = raw_message.workspace
    if ticket is not None and ticket.workspace_id != workspace.pk:
        raise ValueError("That ticket belongs to another workspace")
    raw = bytes(raw_message.raw)
    text = raw.decode("utf-8", "replace").replace("\x00", "")
    if len(text) > HAND_TEXT_LIMIT:
        text = text[:HAND_TEXT_LIMIT] + f"\n\n[… {len(text) - HAND_TEXT_LIMIT:,} more characters in the attached original]"
    fields = {"text": text, "dedup_key": f"raw:{raw_message.content_sha256}",
              "thread_reason": f"assigned by hand by {actor.get_username()}"[:200]}
    with transaction.atomic():
        raw_message = RawMessage.objects.select_for_update().get(pk=raw_message.pk)
        if raw_message.state not in (RawMessage.State.REJECTED, RawMessage.State.FILTERED):
            raise NotAllowedInThisState("Someone assigned this mail a moment ago")
        if ticket is None:
            address = normalize_email(parseaddr(from_email)[1] or from_email)
            if "@" not in address or len(address) > 254 or any(ch.isspace() for ch in address):
                raise ValueError("Give the customer's email address for the new ticket, or a ticket number")
            contact = do_find_or_create_contact(actor, workspace, address, "")
            ticket = do_create_ticket(actor, workspace, contact=contact, subject=raw_message.subject or "(unreadable mail)",
                                      channel=TICKET_CHANNEL.get(raw_message.channel, Channel.EMAIL), **fields)
            message = ticket.first_message
        else:
            ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
            message = do_add_customer_message(actor, ticket, **fields)
        original = Attachment(workspace=workspace, message=message, filename="original-mail.eml",
                              content_type="message/rfc822", size=len(raw))
        name, error = _write_file(original, raw)
        if error:
            original.skipped_reason = f"{NOT_STORED}{error}"[:300]
        else:
            original.file.name = name
        original.save()
        record_event(workspace, actor, "mail.assigned", raw_message, ticket=ticket.number, was=raw_message.state,
                     reason=raw_message.detail[:500])
        _finish(raw_message, RawMessage.State.PROCESSED, message=message,
                detail=f"assigned by hand by {actor.get_username()} to #{ticket.number} (was {raw_message.state}: "
                       f"{raw_message.detail})")
    from lbsup.triage.tasks import triage_message_job

    transaction.on_commit(lambda: triage_message_job(message.pk), robust=True)
    return raw_message


def _store_attachments(message, attachments, written=None):
    """One row per attachment. A file that cannot be written (disk full, unwritable) does not
    stop the message: the row says why, and do_store_missing_attachments writes it later from
    the raw bytes. Returns a note per missing file for the raw message's detail. written: a list
    that gets (storage, name) of each file written."""
    notes = []
    for item in attachments:
        attachment = Attachment(
            workspace_id=message.workspace_id, message=message, filename=item.filename[:255] or "attachment",
            content_type=item.content_type[:255], size=item.size, content_id=(item.content_id or "")[:255],
            inline=item.inline, skipped_reason=(item.skipped_reason or "")[:300],
        )
        if not item.skipped_reason:
            name, error = _write_file(attachment, item.content)
            if error:
                attachment.skipped_reason = f"{NOT_STORED}{error}"[:300]
                notes.append(f"{attachment.filename} not stored: {error}")
            else:
                attachment.file.name = name
                if written is not None:
                    written.append((attachment.file.storage, name))
        insert_row(attachment)
    return notes


def _write_file(attachment, content):
    """(stored name, None), or (None, the reason) with no partial file left behind:
    on a full disk the storage leaves what it managed to write, which keeps the disk full."""
    field = attachment.file.field
    name = field.generate_filename(attachment, attachment.filename)
    storage = attachment.file.storage
    try:
        return storage.save(name, ContentFile(content), max_length=field.max_length), None
    except OSError as error:
        try:
            storage.delete(name)  # the name is in a fresh random folder: nobody else's file
        except OSError:
            log.warning("could not remove the partial attachment file %s", name)
        return None, error.strerror or str(error)


def do_store_missing_attachments(message):
    """Write the files that could not be stored when the message arrived (the disk was full),
    from the raw bytes kept for it. Returns how many were written; safe to repeat or run twice at once."""
    rows = list(Attachment.objects.filter(message=message).order_by("id"))
    if not any(not row.file and row.skipped_reason.startswith(NOT_STORED) for row in rows):
        return 0
    raw_message = message.raw_messages.filter(state=RawMessage.State.PROCESSED).first()
    if raw_message is None:
        return 0
    stored = 0
    # The rows were created in the parser's order, one per attachment.
    for row, item in zip(rows, parse_message(bytes(raw_message.raw)).attachments):
        if row.file or not row.skipped_reason.startswith(NOT_STORED) or row.size != item.size:
            continue
        name, error = _write_file(row, item.content)
        if error:
            continue
        if Attachment.objects.filter(pk=row.pk, file="").update(file=name, skipped_reason=""):
            stored += 1
        else:  # another worker stored it a moment ago
            row.file.storage.delete(name)
    if stored:
        record_event(message.workspace, SYSTEM, "mail.attachments_stored", raw_message, count=stored)
    return stored


def messages_missing_attachments(workspace=None):
    messages = Message.objects.filter(attachments__file="", attachments__skipped_reason__startswith=NOT_STORED)
    if workspace is not None:
        messages = messages.filter(workspace=workspace)
    return messages.select_related("workspace").distinct()


def _one_line(value):
    """Header text from a form or API: any line or paragraph separator (\\r, \\n, U+0085,
    U+2028, …) or control character becomes a space, so nothing can add a header."""
    return " ".join("".join(" " if ch.isspace() or not ch.isprintable() else ch for ch in value or "").split())


# The Message-ID domain of a form or API submission made with an idempotency key: the key names the
# message, so other content under it is the client reusing a key (the API refuses it), not a new mail.
KEYED_SUBMISSION = ".intake.lbsup"


def compose_inbound(workspace, *, from_email, from_name="", subject="", text="", message_key=None):
    """A web-form or API submission as a plain RFC 5322 message, so every channel takes
    the same raw-first, deduplicated path. message_key (an idempotency key) makes a
    resubmission the same message."""
    from email.message import EmailMessage
    from email.utils import formataddr, formatdate, make_msgid

    mail = EmailMessage()
    mail["From"] = formataddr((_one_line(from_name), from_email.strip()))
    mail["To"] = workspace.support_email
    mail["Subject"] = _one_line(subject)
    mail["Date"] = formatdate(localtime=False)
    key = hashlib.sha256(f"{workspace.pk}:{message_key}".encode()).hexdigest()[:32] if message_key else None
    mail["Message-ID"] = f"<{key}@{workspace.slug}{KEYED_SUBMISSION}>" if key else make_msgid(domain="intake.lbsup")
    mail.set_content(text)
    return mail.as_bytes()
