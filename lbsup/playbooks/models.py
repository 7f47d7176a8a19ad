from django.conf import settings
from django.db import models
from django.db.models import Q


class PlaybookVersion(models.Model):
    """One uploaded version of a workspace's playbook file. Only an approved version is
    ever used; approving one supersedes the previous active version."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        REJECTED = "rejected", "Rejected"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="playbook_versions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    # The uploader approved it, allowed only as the workspace's single lead or admin.
    self_approved = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="playbook_number_per_workspace"),
            models.UniqueConstraint(fields=["workspace"], condition=Q(state="active"), name="one_active_playbook"),
        ]

    def __str__(self):
        return f"{self.workspace.slug} playbook v{self.number} ({self.state})"
