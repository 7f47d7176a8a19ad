import datetime

from django.conf import settings
from django.db import models


class DigestSchedule(models.Model):
    """When a workspace's owners get the daily summary by email (local time of the workspace)."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE, related_name="digest_schedule")
    enabled = models.BooleanField(default=True)
    send_at = models.TimeField(default=datetime.time(7, 0), help_text="local time; the summary of the day before")
    extra_recipients = models.TextField(blank=True, help_text="more addresses, one per line")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.workspace.slug} digest at {self.send_at:%H:%M}"

    @property
    def extra_addresses(self):
        return [line.strip() for line in self.extra_recipients.splitlines() if line.strip()]


class DailySummary(models.Model):
    """One row per workspace and day: the claim that makes the digest go out exactly once,
    and the figures as they were when it was sent."""

    class State(models.TextChoices):
        BUILT = "built", "Built, not sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Sending failed"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="daily_summaries")
    date = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.BUILT)
    data = models.JSONField(default=dict, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["workspace", "date"], name="one_summary_per_workspace_day")]

    def __str__(self):
        return f"{self.workspace.slug} {self.date} ({self.state})"


class ReplayRun(models.Model):
    """A candidate playbook run over recent tickets, with progress the page polls."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="replay_runs")
    playbook_version = models.ForeignKey("playbooks.PlaybookVersion", on_delete=models.CASCADE,
                                         related_name="replay_runs")
    days = models.PositiveIntegerField(default=30)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"replay of v{self.playbook_version.number} over {self.days} days ({self.state})"

    @property
    def percent(self):
        return round(100 * self.done / self.total) if self.total else (100 if self.state == self.State.DONE else 0)

    @property
    def finished(self):
        return self.state in (self.State.DONE, self.State.FAILED)
