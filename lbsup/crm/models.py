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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "email"], name="contact_email_per_workspace")]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        # The address always lives in its contact's workspace (admin inlines don't set it).
        self.workspace_id = self.contact.workspace_id
        super().save(*args, **kwargs)
