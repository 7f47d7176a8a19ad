from django.contrib import admin

from lbsup.audit.admin_mixins import AuditedAdminMixin

from .models import Membership, Team, Workspace


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


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "workspace", "lead")
    list_filter = ("workspace",)


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "workspace", "role")
    list_filter = ("workspace", "role")
