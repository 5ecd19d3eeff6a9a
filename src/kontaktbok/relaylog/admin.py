"""Only the municipality's settings are in the technical admin: the logs themselves are
read by their participants alone, never through the admin."""

from django.contrib import admin

from kontaktbok.relaylog.models import RelayLogSettings


@admin.register(RelayLogSettings)
class RelayLogSettingsAdmin(admin.ModelAdmin):
    list_display = ("municipality", "consent_age")
