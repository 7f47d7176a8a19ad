from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .delivery import attempt, deliver_due


@db_task()
def deliver_webhook_job(delivery_pk):
    attempt(delivery_pk, timezone.now())


@db_periodic_task(crontab(minute="*"))
def deliver_due_webhooks():
    """Retries whose backoff has passed; claims make it safe on several consumers."""
    deliver_due(timezone.now())
