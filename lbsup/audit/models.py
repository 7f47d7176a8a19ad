from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Append-only record of every write: who (a person or the assistant) did what to what."""

    ACTOR_KINDS = [("user", "User"), ("assistant", "Assistant"), ("system", "System")]

    workspace = models.ForeignKey(
        "workspaces.Workspace", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor_kind = models.CharField(max_length=16, choices=ACTOR_KINDS)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "target_type", "target_id"])]

    def __str__(self):
        return f"{self.actor_label} {self.verb} {self.target_type}:{self.target_id}"

    @property
    def actor_label(self):
        return self.actor_user.get_username() if self.actor_user_id else self.actor_kind

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only")
