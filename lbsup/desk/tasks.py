from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .actions import do_fold_queue_tallies
from .models import QueueTally


@db_periodic_task(crontab(minute="*"))
def fold_queue_tallies():
    """Keeps the queue counts cheap to read; several consumers may run this at once."""
    for workspace_id in QueueTally.objects.values_list("workspace_id", flat=True).distinct():
        do_fold_queue_tallies(workspace_id)
