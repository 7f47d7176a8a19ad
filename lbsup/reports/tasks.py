from django.db.models import F
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM

from .actions import send_due_digests
from .models import ReplayRun


@db_periodic_task(crontab(minute="*/5"))
def send_due_digests_job():
    """Every few minutes: send each workspace's digest once its local time has come.
    Two schedulers running this at once still send one email (see claim_digest)."""
    return [outcome.reason for outcome in send_due_digests()]


@db_task()
def replay_job(run_id):
    from lbsup.assist.playbook import load_playbook
    from lbsup.playbooks.replay import replay_playbook

    # Claim: a job delivered twice runs the replay once.
    if not ReplayRun.objects.filter(pk=run_id, state=ReplayRun.State.QUEUED).update(state=ReplayRun.State.RUNNING):
        return None
    run = ReplayRun.objects.select_related("workspace", "playbook_version").get(pk=run_id)
    version = run.playbook_version

    def progress(done, total):
        ReplayRun.objects.filter(pk=run_id).update(done=done, total=total)

    try:
        candidate = load_playbook(version.text, source=f"playbook version {version.number}")
        report = replay_playbook(run.workspace, candidate, days=run.days, progress=progress)
    except Exception as error:  # shown on the page; the lead can run it again
        ReplayRun.objects.filter(pk=run_id).update(state=ReplayRun.State.FAILED, error=str(error)[:2000],
                                                   finished_at=timezone.now())
        record_event(run.workspace, SYSTEM, "playbook.replay_failed", run, error=str(error)[:300])
        return None
    ReplayRun.objects.filter(pk=run_id).update(state=ReplayRun.State.DONE, result=report.to_dict(),
                                               done=F("total"), finished_at=timezone.now())
    record_event(run.workspace, SYSTEM, "playbook.replay_finished", run, tickets=report.tickets,
                 counts=report.counts)
    return report.counts
