from django.conf import settings
from django.db import models


class Clock(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class TicketClock(models.Model):
    """The bookkeeping behind a ticket's SLA due columns: when the current cycle began
    (creation, or the customer reply that reopened a closed ticket) and how many business
    hours it spent waiting on the customer, which the clocks do not count."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clock")
    cycle_started_at = models.DateTimeField()
    paused_hours = models.FloatField(default=0.0)
    first_response_hours = models.FloatField(default=0.0)
    next_response_hours = models.FloatField(default=0.0)
    resolution_hours = models.FloatField(default=0.0)
    targets_from = models.CharField(max_length=200, blank=True, help_text="which playbook category set the targets")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"SLA clock of ticket {self.ticket_id}"


class SlaEvent(models.Model):
    """One reminder or breach per (ticket, clock, due time): the unique constraint plus a
    conditional UPDATE of fired_at is what keeps several workers from firing it twice."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Due soon"
        BREACH = "breach", "Overdue"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    clock = models.CharField(max_length=16, choices=Clock.choices)
    clock_due_at = models.DateTimeField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    detail = models.CharField(max_length=300, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-clock_due_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "kind", "clock", "clock_due_at"],
                                               name="one_sla_event_per_due_time")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_clock_display()} of ticket {self.ticket_id}"


class FollowUp(models.Model):
    """A representative's promise to look again: snooze until a time, or nudge if no reply by then."""

    class Kind(models.TextChoices):
        SNOOZE = "snooze", "Snooze"
        NUDGE = "nudge", "Nudge if no reply"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="followups")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    draft = models.ForeignKey("drafts.Draft", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} of ticket {self.ticket_id} at {self.due_at:%Y-%m-%d %H:%M}"
