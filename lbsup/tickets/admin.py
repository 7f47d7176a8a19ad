from django.contrib import admin

from .models import Attachment, Message, Ticket


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tickets and messages change only through the actions (which audit); admin can look."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "direction", "author_kind", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("number", "subject", "workspace", "status", "priority", "category", "team", "assignee", "created_at")
    list_filter = ("workspace", "status", "channel", "priority")
    search_fields = ("subject", "contact__name")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "direction", "author_kind", "created_at")
    list_filter = ("workspace", "direction")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "content_type", "size", "message")
