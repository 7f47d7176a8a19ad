from django.conf import settings
from django.db import models


class TriageRecord(models.Model):
    """The assistant's reading of one inbound message, with its evidence, as it was
    when made (playbook and model version included) so it can be explained later."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    message = models.OneToOneField("tickets.Message", on_delete=models.CASCADE, related_name="triage")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="triage_records")
    category = models.CharField(max_length=64)
    confidence = models.FloatField()
    escalate = models.BooleanField(default=False)
    result = models.JSONField()
    playbook_version = models.ForeignKey("playbooks.PlaybookVersion", null=True, on_delete=models.SET_NULL)
    model_version = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.category} ({self.confidence:.0%}) for message {self.message_id}"


class LabelledExample(models.Model):
    """A representative's correction, kept as training data for this workspace."""

    class Kind(models.TextChoices):
        CATEGORY = "category", "Category"
        ESCALATION = "escalation", "Escalation"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="labelled_examples")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField()
    label = models.CharField(max_length=64, help_text="the category, or escalate / do_not_escalate")
    previous = models.CharField(max_length=64, blank=True, help_text="what the assistant had said")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class TrainedModel(models.Model):
    """A workspace's category model, trained from its approved playbook plus corrections."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="trained_models")
    playbook_version = models.ForeignKey("playbooks.PlaybookVersion", on_delete=models.CASCADE)
    version = models.CharField(max_length=128)
    examples = models.PositiveIntegerField()
    corrections = models.PositiveIntegerField()
    train_seconds = models.FloatField()
    blob = models.BinaryField()
    trained_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-trained_at", "-id"]
