from django.contrib import admin, messages

from lbsup.audit.admin_mixins import AuditedAdminMixin

from .actions import settle_tokens
from .models import Membership, Team, Workspace


def _settle_and_tell(request, workspace, user):
    """The admin changes memberships outside the actions: revoke the API tokens the change
    left without a backer, and tell the person who made it which ones."""
    revoked = settle_tokens(request.user, workspace, user)
    if revoked:
        names = ", ".join(f"{t.name} (lbs_{t.prefix}_…)" for t in revoked)
        messages.warning(request, f"API tokens of {workspace} that stopped working with this change: {names}.")


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    filter_horizontal = ("teams",)


@admin.register(Workspace)
class WorkspaceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "support_email")
    search_fields = ("name", "slug")
    inlines = [TeamInline, MembershipInline]

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            changed = [m.user for m in formset.deleted_objects] + [m.user for m, _ in formset.changed_objects]
            for user in changed:
                _settle_and_tell(request, form.instance, user)


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "workspace", "lead")
    list_filter = ("workspace",)


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "workspace", "role")
    list_filter = ("workspace", "role")

    def save_model(self, request, obj, form, change):
        previous = Membership.objects.filter(pk=obj.pk).select_related("workspace", "user").first() if change else None
        super().save_model(request, obj, form, change)
        if previous is not None and (previous.user_id, previous.workspace_id) != (obj.user_id, obj.workspace_id):
            _settle_and_tell(request, previous.workspace, previous.user)
        _settle_and_tell(request, obj.workspace, obj.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _settle_and_tell(request, obj.workspace, obj.user)

    def delete_queryset(self, request, queryset):
        gone = [(m.workspace, m.user) for m in queryset.select_related("workspace", "user")]
        super().delete_queryset(request, queryset)
        for workspace, user in gone:
            _settle_and_tell(request, workspace, user)
