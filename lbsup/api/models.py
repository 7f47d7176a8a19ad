from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A workspace's key for the REST API. Only a hash of the secret is stored: the
    plaintext is shown once, when it is created.

    A person token acts as its user with the lower of the user's role and the chosen
    role; a service token has no person and can never approve or send a reply."""

    class Kind(models.TextChoices):
        PERSON = "person", "Acts as me"
        SERVICE = "service", "Service (no person)"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The person a person token acts as; null for service tokens.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="api_tokens")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=32, help_text="the most this token may do; a person token never exceeds its user")
    # Public part of the token, to find the row without comparing secrets in SQL.
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="to the minute")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="person", user__isnull=False) | models.Q(kind="service", user__isnull=True),
                name="person_token_has_user_service_token_has_none",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None
