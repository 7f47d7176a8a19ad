"""What lbsup.tickets.actions calls after a write that may move a clock."""

from django.utils import timezone

from .actions import customer_replied
from .sla import sla_after_change


def ticket_changed(ticket, *, at=None, restart=False, customer_wrote=False):
    at = at or timezone.now()
    sla_after_change(ticket, at=at, restart=restart)
    if customer_wrote:
        customer_replied(ticket, at)
