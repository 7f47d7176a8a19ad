from django.conf import settings
from django.db import models


class Draft(models.Model):
    """A proposed reply from an approved playbook reply, and what became of it: the figures
    the daily summary reports per reply (approved unchanged, edited, rejected, time, edit size)."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        SAVED = "saved", "Saved for later"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded by a newer draft"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="drafts")
    message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE, related_name="drafts",
                                help_text="the inbound message this answers")
    playbook_version = models.ForeignKey("playbooks.PlaybookVersion", null=True, on_delete=models.SET_NULL)
    category = models.CharField(max_length=64)
    reply_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=16, default="template", help_text="template, or llm when polished")
    fallback_reason = models.CharField(max_length=300, blank=True)
    proposed_text = models.TextField()
    text = models.TextField(help_text="the current text, as edited")
    missing = models.JSONField(default=list, blank=True)
    filled = models.JSONField(default=dict, blank=True)
    checks = models.JSONField(default=list, blank=True, help_text="guardrail findings on the current text")
    alternatives = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROPOSED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    seconds_to_decide = models.FloatField(null=True, blank=True)
    edit_size = models.FloatField(null=True, blank=True, help_text="normalized edit distance, proposed → sent")
    sent_text = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="why it was rejected, or why a guardrail was overridden")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "state", "created_at"])]

    def __str__(self):
        return f"Draft {self.reply_id or '(none)'} for #{self.ticket.number} ({self.state})"

    @property
    def blocking_checks(self):
        return [c for c in self.checks if c.get("blocking")]

    @property
    def is_open(self):
        return self.state in (self.State.PROPOSED, self.State.SAVED)
