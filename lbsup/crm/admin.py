from django.contrib import admin

from lbsup.audit.admin_mixins import AuditedAdminMixin

from .models import Company, Contact, ContactEmail


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    exclude = ("workspace",)
    extra = 0


@admin.register(Contact)
class ContactAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "workspace", "company", "vip", "sensitive")
    list_filter = ("workspace", "vip", "sensitive")
    search_fields = ("name", "emails__email")
    inlines = [ContactEmailInline]


@admin.register(Company)
class CompanyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "workspace", "domain")
    list_filter = ("workspace",)
    search_fields = ("name", "domain")
