import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone")


class Workspace(models.Model):
    """One client business whose customer inbox the provider answers."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # {"mon": ["08:00", "17:00"], ...} in local time; a missing day is closed.
    business_hours = models.JSONField(default=dict, blank=True)
    support_email = models.EmailField(unique=True)
    phone = models.CharField(max_length=64, blank=True)
    # Leads and admins of this workspace sign in with a second factor (lbsup/core/two_factor.py).
    require_two_factor = models.BooleanField(default=False)
    # 0: off. Otherwise "Re: <subject>" from a ticket's own contact joins that ticket while it is open
    # and had mail within this many days: the weakest threading rule, for mail clients that drop headers.
    thread_by_subject_days = models.PositiveSmallIntegerField(default=0)
    # Per-workspace ticket numbers ("#12") are allocated from this counter.
    next_ticket_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.timezone)


class Team(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="team_slug_per_workspace")]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    LEAD = "lead", "Lead"
    REPRESENTATIVE = "representative", "Representative"
    OWNER = "owner", "Owner (reports only)"


# Who may work tickets; owners read their business's reports only.
DESK_ROLES = (Role.ADMIN, Role.LEAD, Role.REPRESENTATIVE)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_workspace")]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_use_desk(self):
        return self.role in DESK_ROLES
