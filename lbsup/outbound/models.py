from django.conf import settings
from django.db import models


class OutboundEmail(models.Model):
    """One approved reply on its way to the customer.

    approved → sending → sent | failed. The worker claims a row with a conditional UPDATE
    (approved → sending), so two workers never send the same reply. A row found still
    `sending` long after its attempt began goes to `needs_check` for a person: the mail
    server may have accepted it just before a crash, and a second copy is worse than a
    question (see README, "Sending")."""

    class State(models.TextChoices):
        APPROVED = "approved", "Approved, waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NEEDS_CHECK = "needs_check", "Needs a person to check"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="outbound_emails")
    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE, related_name="outbound")
    # What was approved: a second approval of the same thing finds this row instead of sending again.
    approval_key = models.CharField(max_length=128)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.APPROVED)
    to_email = models.EmailField()
    # The ticket's other participants, copied unless the representative took them off.
    cc_emails = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=400)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The receiving side's later report that it could not deliver it (a bounce), or that it is delayed.
    bounce = models.CharField(max_length=300, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "approval_key"], name="one_send_per_approval"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"Reply on #{self.ticket.number} to {self.to_email} ({self.state})"
