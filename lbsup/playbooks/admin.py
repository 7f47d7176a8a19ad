from django.contrib import admin

from .models import PlaybookVersion


@admin.register(PlaybookVersion)
class PlaybookVersionAdmin(admin.ModelAdmin):
    """Versions change only through upload/approve (which validate and audit)."""

    list_display = ("workspace", "number", "state", "uploaded_by", "approved_by", "approved_at")
    list_filter = ("workspace", "state")
    readonly_fields = [f.name for f in PlaybookVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
