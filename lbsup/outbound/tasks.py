from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from lbsup.core.priorities import SENDING, TIMERS

from .actions import do_send, flag_stuck_sends
from .models import OutboundEmail


@db_task(priority=SENDING)
def send_outbound_job(outbound_id):
    outbound = do_send(outbound_id)
    if outbound.state == OutboundEmail.State.APPROVED and not HUEY.immediate:
        # a temporary failure: try again when the backoff has passed
        delay = max(1, (outbound.next_attempt_at - timezone.now()).total_seconds())
        send_outbound_job.schedule((outbound_id,), delay=delay)


@db_periodic_task(crontab(minute="*"), priority=TIMERS)
def send_due_replies():
    """Catches sends whose job was lost (a restart, Redis down for a while)."""
    for outbound_id in OutboundEmail.objects.filter(
        state=OutboundEmail.State.APPROVED, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:200]:
        send_outbound_job(outbound_id)
    flag_stuck_sends()
