"""Polling an IMAP mailbox without losing or duplicating mail.

Fetch with BODY.PEEK (the server's \\Seen flag stays untouched), commit the raw bytes,
and only then mark the message seen (or move it) and advance last_uid. A dropped
connection or a crash at any point means the next poll fetches the message again,
and the raw-bytes/Message-ID keys turn the refetch into a no-op. A changed
UIDVALIDITY resets last_uid: the whole folder is rescanned, deduplicated the same way."""

import logging
from dataclasses import dataclass, field

from django.utils import timezone
from imapclient import IMAPClient

from .actions import do_ingest_batch
from .models import InboundChannel

log = logging.getLogger(__name__)
FETCH_BATCH = 50


@dataclass
class PollReport:
    fetched: int = 0
    stored: int = 0
    failed: list = field(default_factory=list)
    uidvalidity_changed: bool = False


def connect(mailbox, timeout=30):
    client = IMAPClient(mailbox.host, port=mailbox.port, ssl=mailbox.use_ssl, timeout=timeout)
    client.login(mailbox.username, mailbox.password)
    return client


def poll_mailbox(mailbox):
    report = PollReport()
    try:
        with connect(mailbox) as client:
            folder = client.select_folder(mailbox.folder)
            uidvalidity = int(folder[b"UIDVALIDITY"])
            if mailbox.uidvalidity != uidvalidity:
                report.uidvalidity_changed = mailbox.uidvalidity is not None
                mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
                mailbox.save(update_fields=["uidvalidity", "last_uid"])
            uids = sorted(uid for uid in client.search(["UID", f"{mailbox.last_uid + 1}:*"]) if uid > mailbox.last_uid)
            for start in range(0, len(uids), FETCH_BATCH):
                batch = uids[start:start + FETCH_BATCH]
                fetched = client.fetch(batch, ["BODY.PEEK[]"])
                # A UID missing from the answer was expunged meanwhile.
                arrived = [(uid, fetched[uid][b"BODY[]"]) for uid in batch if b"BODY[]" in fetched.get(uid, {})]
                _take(client, mailbox, uidvalidity, arrived, report)
        mailbox.last_error = ""
    except Exception as error:  # noqa: BLE001 - shown on the mailbox; the next poll resumes
        log.warning("Polling %s failed: %s", mailbox, error)
        mailbox.last_error = f"{type(error).__name__}: {error}"[:2000]
    mailbox.last_polled_at = timezone.now()
    mailbox.save(update_fields=["last_error", "last_polled_at"])
    return report


def _take(client, mailbox, uidvalidity, arrived, report):
    """One FETCH's messages through do_ingest_batch, then flagged on the server."""
    if not arrived:
        return
    report.fetched += len(arrived)
    sources = [{"mailbox": mailbox.pk, "folder": mailbox.folder, "uidvalidity": uidvalidity, "uid": uid}
               for uid, _ in arrived]
    results = do_ingest_batch(mailbox.workspace, [raw for _, raw in arrived], channel=InboundChannel.IMAP,
                              sources=sources)
    stored = []
    for (uid, _), item in zip(arrived, results):
        if item.raw_message is None:
            # Not stored (too large): left unseen, and last_uid stops before it, so it is not skipped silently.
            report.failed.append((uid, item.error))
            break
        stored.append(uid)
        if item.error:  # stored and marked failed; retried by the resume job
            report.failed.append((uid, item.error))
    report.stored += len(stored)
    if not stored:
        raise RuntimeError(f"UID {arrived[0][0]}: {report.failed[-1][1]}")
    # Only now, with the bytes committed, does the server learn we have them.
    if mailbox.move_to:
        client.move(stored, mailbox.move_to)
    else:
        client.add_flags(stored, [b"\\Seen"])
    mailbox.last_uid = stored[-1]
    mailbox.save(update_fields=["last_uid"])
    if len(stored) < len(arrived):
        raise RuntimeError(f"UID {arrived[len(stored)][0]}: {report.failed[-1][1]}")
