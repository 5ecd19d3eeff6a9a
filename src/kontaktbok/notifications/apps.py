from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "kontaktbok.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from importlib import import_module

        from django.conf import settings

        from kontaktbok.notifications import (
            checks,  # noqa: F401  (registers the checks)
            kinds,  # noqa: F401  (registers the kinds)
        )

        # Further kinds from modules named in settings (the test suite adds its own).
        for module in getattr(settings, "NOTIFICATION_KIND_MODULES", []):
            import_module(module)
