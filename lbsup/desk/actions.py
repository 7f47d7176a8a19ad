"""The desk's own writes. Neither presence heartbeats (refreshed every 20 seconds) nor folding
the queue tally are audit events: they say nothing about what was done to a ticket."""

import datetime
from collections import Counter

from django.db import transaction
from django.utils import timezone

from .models import QueueTally, TicketViewer

PRESENCE_WINDOW = datetime.timedelta(seconds=45)  # two missed heartbeats and you are gone
BUCKET = ("status", "team_id", "category", "assignee_id")
FOLD_BATCH = 5000  # rows per transaction: well under SQLite's parameter limit, short row locks on PostgreSQL


def do_mark_viewing(ticket, user, *, editing=False, at=None):
    at = at or timezone.now()
    TicketViewer.objects.update_or_create(ticket=ticket, user=user, defaults={"seen_at": at, "editing": editing})


def do_leave(ticket, user):
    TicketViewer.objects.filter(ticket=ticket, user=user).delete()


def others_here(ticket, user, *, at=None):
    """Other people with this ticket open in the last 45 seconds, most recent first."""
    at = at or timezone.now()
    return list(
        TicketViewer.objects.filter(ticket=ticket, seen_at__gte=at - PRESENCE_WINDOW).exclude(user=user)
        .select_related("user").order_by("-seen_at")
    )


def do_fold_queue_tallies(workspace_id):
    """Fold a workspace's tally rows into one row per bucket, dropping empty buckets, so reading
    the counts stays a sum over a few rows however many tickets changed."""
    while True:
        read, removed = _fold_oldest_tally_rows(workspace_id)
        if read < FOLD_BATCH or not removed:
            return


def _fold_oldest_tally_rows(workspace_id) -> tuple[int, int]:
    """Safe beside ticket writes and other folds: it deletes exactly the rows it read under lock
    (FOR UPDATE on PostgreSQL, the IMMEDIATE transaction on SQLite), so a row appended meanwhile
    is never lost, and a row another fold took is never counted twice."""
    with transaction.atomic():
        rows = list(QueueTally.objects.select_for_update().filter(workspace_id=workspace_id).order_by("id")
                    .values_list("id", *BUCKET, "tickets")[:FOLD_BATCH])
        sums = Counter()
        for _, *bucket, tickets in rows:
            sums[tuple(bucket)] += tickets
        folded = [QueueTally(workspace_id=workspace_id, tickets=n, **dict(zip(BUCKET, bucket)))
                  for bucket, n in sums.items() if n]
        if len(folded) == len(rows):
            return len(rows), 0  # one row per bucket already
        QueueTally.objects.filter(id__in=[row[0] for row in rows]).delete()
        QueueTally.objects.bulk_create(folded)
    return len(rows), len(rows) - len(folded)
