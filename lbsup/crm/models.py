from django.conf import settings
from django.db import models


class Company(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="companies")
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=255, blank=True, help_text="Mail from this domain belongs to the company")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="company_name_per_workspace")]

    def __str__(self):
        return self.name


class Contact(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    phones = models.JSONField(default=list, blank=True)
    vip = models.BooleanField(default=False)
    sensitive = models.BooleanField(default=False)
    flag_reason = models.TextField(blank=True, help_text="Why a person set the vip/sensitive flags")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name or self.primary_email or f"Contact {self.pk}"

    @property
    def primary_email(self):
        first = self.emails.order_by("id").first()
        return first.email if first else ""


class ContactEmail(models.Model):
    """A contact may write from several addresses; each address maps to one contact per workspace."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField()
    # Set when our mail to this address bounced for good (lbsup/intake/bounces.py); nullable so that
    # SQLite adds the columns without rebuilding the table (and dropping the desk's search triggers).
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=300, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "email"], name="contact_email_per_workspace")]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        # The address always lives in its contact's workspace (admin inlines don't set it).
        self.workspace_id = self.contact.workspace_id
        super().save(*args, **kwargs)


class CrmNote(models.Model):
    """The record of a handled ticket in the business's note format. The assistant drafts it;
    a representative reviews every field and approves it; only approved notes are the record."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft (to review)"
        APPROVED = "approved", "Approved"
        DISCARDED = "discarded", "Discarded"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="crm_notes")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="crm_notes")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="crm_notes")
    # [{"name", "proposed", "value", "source", "reviewed"}] in the playbook's field order
    fields = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["ticket"], condition=models.Q(state="draft"),
                                               name="one_draft_crm_note_per_ticket")]

    def __str__(self):
        return f"CRM note for ticket {self.ticket_id} ({self.state})"

    def value(self, name):
        return next((f["value"] for f in self.fields if f["name"] == name), "")

    @property
    def all_reviewed(self):
        return all(f.get("reviewed") for f in self.fields)


class Lead(models.Model):
    """A sales inquiry (a `qualify` category), from first message to won or lost."""

    class Stage(models.TextChoices):
        NEW = "new", "New"
        QUALIFIED = "qualified", "Qualified"
        HANDED_OVER = "handed_over", "Handed over"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    NEXT_STAGES = {
        Stage.NEW: (Stage.QUALIFIED, Stage.LOST),
        Stage.QUALIFIED: (Stage.HANDED_OVER, Stage.LOST),
        Stage.HANDED_OVER: (Stage.WON, Stage.LOST),
        Stage.WON: (),
        Stage.LOST: (),
    }

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="leads")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="leads")
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="lead")
    category = models.CharField(max_length=64)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    answers = models.JSONField(default=dict, blank=True, help_text="qualification field -> what the customer said")
    missing = models.JSONField(default=list, blank=True, help_text="qualification fields still to ask for")
    team = models.ForeignKey("workspaces.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    next_step = models.CharField(max_length=300, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["workspace", "stage", "due_at"])]

    def __str__(self):
        return f"Lead {self.pk} ({self.stage})"

    @property
    def next_stages(self):
        return self.NEXT_STAGES[self.Stage(self.stage)]


class RecurringIssue(models.Model):
    """The same contact raising the same category again and again within a window."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="recurring_issues")
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="recurring_issue")
    category = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    within_days = models.PositiveIntegerField()
    ticket_numbers = models.JSONField(default=list)
    rule = models.CharField(max_length=64, help_text="the playbook rule id, or 'default'")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.count}× {self.category} in {self.within_days} days"
