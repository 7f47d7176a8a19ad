from django.conf import settings
from django.db import models


class TicketViewer(models.Model):
    """Who has a ticket open right now: a heartbeat row per (ticket, person), refreshed by the
    ticket page every 20 seconds, so a second representative sees the first one at work."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    editing = models.BooleanField(default=False, help_text="typing in the draft or a note")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="one_viewer_row_per_person")]
        indexes = [models.Index(fields=["ticket", "seen_at"])]

    def __str__(self):
        return f"{self.user} on ticket {self.ticket_id}"


class QueueTally(models.Model):
    """How many tickets sit in each queue bucket (workspace, status, team, category, assignee),
    so the queue's counts are a sum over a few hundred rows instead of a scan of every open
    ticket. Written only by database triggers on tickets_ticket (migration 0003): +1 for the
    bucket a ticket enters, −1 for the one it leaves. Appending instead of updating one row per
    bucket means concurrent ticket writes never wait on, or deadlock over, a shared counter;
    do_fold_queue_tallies folds the rows back to one per bucket every minute.

    No foreign keys in the database: the triggers also write while a workspace, team or person
    is being deleted."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.DO_NOTHING, db_constraint=False,
                                  related_name="+")
    status = models.CharField(max_length=16)
    team = models.ForeignKey("workspaces.Team", null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                             db_index=False, related_name="+")
    category = models.CharField(max_length=64)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING,
                                 db_constraint=False, db_index=False, related_name="+")
    tickets = models.IntegerField(help_text="tickets this row adds to its bucket (negative when they left)")

    def __str__(self):
        return f"{self.tickets:+d} {self.status} in workspace {self.workspace_id}"
