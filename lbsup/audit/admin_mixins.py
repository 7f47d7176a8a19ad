from .actions import record_event


class AuditedAdminMixin:
    """Django admin writes outside the actions, so it records its own audit events."""

    def _workspace_of(self, obj):
        if obj._meta.model_name == "workspace":
            return obj
        return getattr(obj, "workspace", None)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        verb = f"admin.{obj._meta.model_name}.{'changed' if change else 'added'}"
        record_event(self._workspace_of(obj), request.user, verb, obj, fields=sorted(form.changed_data))

    def delete_model(self, request, obj):
        record_event(self._workspace_of(obj), request.user, f"admin.{obj._meta.model_name}.deleted", obj, name=str(obj))
        super().delete_model(request, obj)
