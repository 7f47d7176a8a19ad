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
