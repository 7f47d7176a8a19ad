"""Compares what an IMAP mailbox holds with what lbsup stored over a period."""

import datetime
import hashlib
from dataclasses import dataclass, field

from django.db.models import Count

from .imap import FETCH_BATCH, connect
from .models import RawMessage


@dataclass
class ReconcileReport:
    mailbox: str
    on_server: int = 0
    stored: int = 0
    missing: list = field(default_factory=list)  # (uid, subject) on the server, not stored
    duplicated: list = field(default_factory=list)  # dedup keys stored as more than one ticket message
    failed: list = field(default_factory=list)  # RawMessage ids stored but not processed
    error: str = ""

    @property
    def ok(self):
        return not (self.missing or self.duplicated or self.failed or self.error)


def reconcile_mailbox(mailbox, since):
    report = ReconcileReport(str(mailbox))
    try:
        with connect(mailbox) as client:
            client.select_folder(mailbox.folder, readonly=True)
            uids = client.search(["SINCE", since - datetime.timedelta(days=1)])
            server = {}
            for start in range(0, len(uids), FETCH_BATCH):
                fetched = client.fetch(uids[start:start + FETCH_BATCH], ["BODY.PEEK[]", "ENVELOPE"])
                for uid, data in fetched.items():
                    envelope = data.get(b"ENVELOPE")
                    subject = envelope.subject.decode(errors="replace") if envelope and envelope.subject else ""
                    server[hashlib.sha256(data[b"BODY[]"]).hexdigest()] = (uid, subject)
    except Exception as error:  # noqa: BLE001 - reported, not raised: reconciling must not crash
        report.error = f"{type(error).__name__}: {error}"
        return report
    report.on_server = len(server)
    stored = set(RawMessage.objects.filter(workspace=mailbox.workspace, content_sha256__in=list(server))
                 .values_list("content_sha256", flat=True))
    report.stored = len(stored)
    report.missing = sorted(server[digest] for digest in server.keys() - stored)
    report.duplicated = list(
        RawMessage.objects.filter(workspace=mailbox.workspace, state=RawMessage.State.PROCESSED, received_at__gte=since)
        .exclude(dedup_key="").values("dedup_key").annotate(n=Count("message", distinct=True)).filter(n__gt=1)
        .values_list("dedup_key", flat=True)
    )
    report.failed = list(
        RawMessage.objects.filter(workspace=mailbox.workspace, received_at__gte=since,
                                  state__in=[RawMessage.State.RECEIVED, RawMessage.State.FAILED])
        .values_list("pk", flat=True)
    )
    return report
