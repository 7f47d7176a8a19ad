from django.db import models

from lbsup.core.sealing import SealedTextField


class InboundChannel(models.TextChoices):
    IMAP = "imap", "IMAP mailbox"
    SMTP = "smtp", "Inbound SMTP"
    EML = "eml", "Imported .eml"
    WEB = "web", "Web contact form"
    API = "api", "REST API"


class RawMessage(models.Model):
    """Every inbound message exactly as it arrived, stored before anything else happens,
    so a crash at any later step loses nothing and the step can be replayed."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received, not processed yet"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate of a message already stored"
        FILTERED = "filtered", "Auto-reply, bounce or list mail (kept out of the queue)"
        REJECTED = "rejected", "Rejected (not usable mail)"
        FAILED = "failed", "Failed (will be retried; a person can retry it)"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="raw_messages")
    channel = models.CharField(max_length=16, choices=InboundChannel.choices)
    # sha256 of the raw bytes: the very same bytes delivered twice are stored once.
    content_sha256 = models.CharField(max_length=64)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    source = models.JSONField(default=dict, blank=True, help_text="mailbox/UID, SMTP envelope, file name, form IP…")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    dedup_key = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    from_email = models.CharField(max_length=320, blank=True)
    detail = models.TextField(blank=True, help_text="why it was filtered or rejected, or the last error")
    attempts = models.PositiveIntegerField(default=0)
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="raw_messages")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "content_sha256"], name="raw_message_bytes_once"),
        ]
        indexes = [models.Index(fields=["workspace", "state", "received_at"])]

    def __str__(self):
        return f"{self.get_channel_display()} {self.from_email} {self.subject!r} ({self.state})"


class Mailbox(models.Model):
    """An IMAP mailbox polled for one workspace. UIDVALIDITY/last UID make polling incremental."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="mailboxes")
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    use_ssl = models.BooleanField(default=True)
    username = models.CharField(max_length=255)
    password = SealedTextField()
    folder = models.CharField(max_length=255, default="INBOX")
    move_to = models.CharField(max_length=255, blank=True, help_text="folder to move processed mail to (else mark seen)")
    enabled = models.BooleanField(default=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"{self.username}@{self.host}/{self.folder}"
