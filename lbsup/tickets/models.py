import secrets

from django.conf import settings
from django.db import models


def new_reply_token():
    return secrets.token_hex(8)


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEB = "web", "Web form"
    API = "api", "API"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on customer"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class Priority(models.IntegerChoices):
    # Integers so "most urgent first" is a plain ORDER BY.
    LOW = 0, "Low"
    NORMAL = 1, "Normal"
    HIGH = 2, "High"
    URGENT = 3, "Urgent"


class Ticket(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="tickets")
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=300, blank=True)
    contact = models.ForeignKey("crm.Contact", on_delete=models.PROTECT, related_name="tickets")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NORMAL)
    category = models.CharField(max_length=64, blank=True)
    # Who set the category: the assistant's guess may be replaced by a later triage,
    # a person's choice never is.
    category_source = models.CharField(
        max_length=16, blank=True, choices=[("assistant", "Assistant"), ("person", "Person")]
    )
    category_confidence = models.FloatField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=300, blank=True, help_text="The first reason, for the queue badge")
    team = models.ForeignKey("workspaces.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    # Goes into the reply address (support+<token>@…) so replies thread without guessing.
    reply_token = models.CharField(max_length=32, unique=True, default=new_reply_token)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks, computed by lbsup.followups from the playbook (business hours, holidays,
    # paused while waiting on the customer). Columns, so "what is due" is one indexed query.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="the earliest pending SLA due time")
    sla_paused_since = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Everyone on From/To/Cc of the customers' messages (lower-case addresses, ours left out): they
    # are part of the conversation, so their reply-all threads here and our replies copy them.
    # Nullable, like the other columns added to this table since: on SQLite a NOT NULL column means
    # rebuilding the table, which drops the desk's search and tally triggers on it.
    participants = models.JSONField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged_from")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "number"], name="ticket_number_per_workspace")]
        indexes = [
            models.Index(fields=["workspace", "status", "-priority", "last_message_at"]),
            models.Index(fields=["workspace", "-last_message_at"]),
            models.Index(fields=["workspace", "assignee", "status"]),
            # the desk's queue order (SLA due, priority, newest) across several statuses, within one
            # status (escalated, waiting) and within one person's queue (mine, unassigned): without
            # the last two SQLite walked the first one through every ticket to find a person's few
            models.Index(fields=["workspace", "due_at", "-priority", "-id"], name="ticket_queue_order"),
            models.Index(fields=["workspace", "status", "due_at", "-priority", "-id"], name="ticket_status_queue_order"),
            models.Index(fields=["workspace", "assignee", "due_at", "-priority", "-id"],
                         name="ticket_assignee_queue_order"),
        ]

    def __str__(self):
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self):
        return self.status not in (Status.RESOLVED, Status.CLOSED)


class Direction(models.TextChoices):
    INBOUND = "inbound", "From the customer"
    OUTBOUND = "outbound", "To the customer"
    NOTE = "note", "Internal note"


class AuthorKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    USER = "user", "Representative"
    ASSISTANT = "assistant", "Assistant"


class Message(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="messages")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    author_kind = models.CharField(max_length=16, choices=AuthorKind.choices)
    author_contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField(blank=True, help_text="The new text, without quoted earlier mail")
    quoted_text = models.TextField(blank=True, help_text="Quoted earlier mail and signature, kept but folded")
    html = models.TextField(blank=True, help_text="Sanitized HTML, safe to render")
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    # Normalized Message-ID (or a content hash): the same mail arriving twice is one message.
    dedup_key = models.CharField(max_length=255, blank=True)
    thread_reason = models.CharField(max_length=200, blank=True, help_text="Why this message joined its ticket")
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    # The one message this replies to (In-Reply-To, else the last of References), indexed: a reply
    # that arrived before its parent is found from the parent when that comes in.
    # (Nullable for the reason given at Ticket.participants.)
    parent_message_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # What the mail said (parser's content hash): the same Message-ID with other content is another message.
    content_sha256 = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"]),
            # Threading looks up every reply's In-Reply-To/References among our own Message-IDs;
            # without it each inbound reply scans the workspace's messages.
            models.Index(fields=["workspace", "message_id"], name="message_workspace_message_id"),
            models.Index(fields=["workspace", "parent_message_id"], name="message_workspace_parent",
                         condition=models.Q(parent_message_id__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "dedup_key"], condition=~models.Q(dedup_key=""), name="message_once_per_workspace"
            )
        ]

    def __str__(self):
        return f"{self.get_direction_display()} on #{self.ticket.number}"

    @property
    def author_label(self):
        if self.author_kind == AuthorKind.USER and self.author_user_id:
            return self.author_user.get_full_name() or self.author_user.get_username()
        if self.author_kind == AuthorKind.CONTACT and self.author_contact_id:
            return str(self.author_contact)
        return self.get_author_kind_display()


def attachment_path(attachment, filename):
    return f"attachments/{attachment.workspace_id}/{secrets.token_hex(8)}/{filename}"


class Attachment(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to=attachment_path, max_length=500, blank=True)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    skipped_reason = models.CharField(max_length=300, blank=True, help_text="Why the content was not stored")

    def __str__(self):
        return self.filename
