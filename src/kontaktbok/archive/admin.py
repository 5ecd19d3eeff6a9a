from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kontaktbok.archive.models import ArchiveDelivery, ArchiveUnit


@admin.register(ArchiveUnit)
class ArchiveUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "municipality", "school", "confidential", "active"]
    filter_horizontal = ["responsible_staff"]


@admin.register(ArchiveDelivery)
class ArchiveDeliveryAdmin(admin.ModelAdmin):
    """Read only: deliveries change through the services (and the deliveries page)."""

    list_display = ["created_at", "unit", "state", "journal_reference", "attempts"]
    list_filter = ["state", "unit"]
    exclude = ["sender_identifier"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
