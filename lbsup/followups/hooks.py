"""What lbsup.tickets.actions calls after a write that may move a clock."""

import threading
from contextlib import contextmanager

from django.utils import timezone

from lbsup.tickets.models import Status

from .actions import customer_replied, customers_replied
from .sla import sla_after_change, sla_after_changes, workspace_plan

_local = threading.local()


class ClockBatch:
    """Inside collecting(), a change to a ticket whose clocks simply run (no restart, not paused,
    not waiting) is remembered, and flush() recomputes each such ticket once: within one
    transaction the result is the same as recomputing after every message, because the due
    times then depend only on the rows, not on when the change happened. Anything else
    (a restart, a pause ending) is recomputed at once, as outside a batch. The tickets a
    customer wrote on have their pending follow-ups answered at flush() too, found with one query."""

    def __init__(self):
        self.pending = {}  # ticket pk → (ticket instance, time of its latest change)
        self.customer_wrote = {}  # ticket pk → (ticket instance, time of the customer's first message)
        self.plans = {}  # workspace pk → (playbook, calendar)

    def mark(self):
        return dict(self.pending), dict(self.customer_wrote)

    def undo(self, mark):
        """Forget the changes of a rolled-back savepoint."""
        self.pending, self.customer_wrote = (dict(part) for part in mark)

    def plan(self, workspace):
        if workspace.pk not in self.plans:
            self.plans[workspace.pk] = workspace_plan(workspace)
        return self.plans[workspace.pk]

    @contextmanager
    def collecting(self):
        _local.clocks = self
        try:
            yield self
        finally:
            _local.clocks = None

    def flush(self):
        pending, self.pending = self.pending, {}
        wrote, self.customer_wrote = self.customer_wrote, {}
        customers_replied(wrote.values())
        by_workspace = {}
        for ticket, at in pending.values():
            by_workspace.setdefault(ticket.workspace_id, []).append((ticket, at))
        for changes in by_workspace.values():
            sla_after_changes(changes, plan=self.plan(changes[0][0].workspace))


def ticket_changed(ticket, *, at=None, restart=False, customer_wrote=False):
    at = at or timezone.now()
    batch = getattr(_local, "clocks", None)
    if batch is not None and not restart and ticket.sla_paused_since is None and ticket.status != Status.WAITING:
        batch.pending[ticket.pk] = (ticket, at)
    else:
        if batch is not None:
            batch.pending.pop(ticket.pk, None)  # the recompute below covers the earlier change too
        sla_after_change(ticket, at=at, restart=restart, plan=batch.plan(ticket.workspace) if batch else None)
    if customer_wrote and batch is not None:
        batch.customer_wrote.setdefault(ticket.pk, (ticket, at))
    elif customer_wrote:
        customer_replied(ticket, at)
