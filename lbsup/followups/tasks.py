from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from lbsup.core.priorities import TIMERS

from .runner import run_due


@db_periodic_task(crontab(minute="*"), priority=TIMERS)
def followups_tick():
    """Reminders, breaches and due follow-ups; several consumers may run this at once."""
    run_due(timezone.now())
