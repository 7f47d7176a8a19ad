from huey.contrib.djhuey import db_task

from lbsup.playbooks.active import NoActivePlaybook
from lbsup.tickets.models import Message
from lbsup.workspaces.models import Workspace

from .actions import do_triage_message
from .engine import train_workspace_model


@db_task(retries=3, retry_delay=10)
def triage_message_job(message_id):
    message = Message.objects.select_related("ticket", "workspace").filter(pk=message_id).first()
    if message is None:
        return
    try:
        do_triage_message(message)
    except NoActivePlaybook:
        pass  # nothing to triage against until a lead approves a playbook; the message waits for a person


@db_task(retries=2, retry_delay=30)
def retrain_workspace_model_job(workspace_id):
    """After corrections: retraining a small workspace model takes seconds."""
    train_workspace_model(Workspace.objects.get(pk=workspace_id))
