import datetime

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lbsup.core.priorities import INTAKE, TIMERS

from .actions import do_process, do_store_missing_attachments, messages_missing_attachments
from .imap import poll_mailbox
from .models import Mailbox, RawMessage

MAX_ATTEMPTS = 5


@db_task(retries=MAX_ATTEMPTS, retry_delay=30, priority=INTAKE)
def process_raw_message_job(raw_message_id):
    raw_message = RawMessage.objects.select_related("workspace").get(pk=raw_message_id)
    do_process(raw_message)


@db_periodic_task(crontab(minute="*"), priority=TIMERS)
def resume_unprocessed_mail():
    """Mail stored but not processed (a crash, a restart, a lost job) is picked up again."""
    stale = timezone.now() - datetime.timedelta(minutes=2)
    pending = RawMessage.objects.filter(
        state__in=[RawMessage.State.RECEIVED, RawMessage.State.FAILED], received_at__lt=stale,
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("pk", flat=True)[:500]
    for raw_message_id in pending:
        process_raw_message_job(raw_message_id)


@db_periodic_task(crontab(minute="*/10"))
def store_missing_attachments():
    """Attachment files that could not be written (a full disk) are written once there is room."""
    for message in messages_missing_attachments()[:100]:
        do_store_missing_attachments(message)


@db_periodic_task(crontab(minute="*"), priority=INTAKE)
def poll_mailboxes():
    for mailbox in Mailbox.objects.filter(enabled=True).select_related("workspace"):
        poll_mailbox_job(mailbox.pk)


@db_task(priority=INTAKE)
def poll_mailbox_job(mailbox_id):
    poll_mailbox(Mailbox.objects.select_related("workspace").get(pk=mailbox_id))
