"""The technical Django admin (superusers only): what it may change, and the audit of it.

Models whose changes the app audits through its services (pupils, guardianships, staff and
their roles) are read-only here, so the admin is no way around the audit log; every change a
superuser makes in what remains is audited in the admin's own transaction."""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import HttpRequest

from kontaktbok.core.audit import audit_log
from kontaktbok.core.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _action(obj: Model, what: str) -> str:
    return f"admin.{obj._meta.app_label}.{obj._meta.model_name}.{what}"


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete by a superuser writes an audit entry (what changed by
    field name, never the values) in the same transaction as the change."""

    def save_model(self, request: HttpRequest, obj: Any, form: Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_log(
            actor=request.user,
            action=_action(obj, "changed" if change else "added"),
            obj=obj,
            role="superuser",
            detail={"fields": sorted(form.changed_data)},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_log(actor=request.user, action=_action(obj, "deleted"), obj=obj, role="superuser")
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            audit_log(actor=request.user, action=_action(obj, "deleted"), obj=obj, role="superuser")
        super().delete_queryset(request, queryset)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("created_at", "action", "actor_name", "role", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("action", "actor_name", "object_id")
