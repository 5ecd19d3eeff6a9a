from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kontaktbok.accounts.models import User
from kontaktbok.core.admin import AuditedAdmin


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    ordering = ("full_name",)
    list_display = ("email", "full_name", "is_active", "is_staff")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "phone", "language")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
    )
    add_fieldsets = ((None, {"fields": ("email", "full_name", "password1", "password2")}),)
