from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "kontaktbok.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from kontaktbok.archive.signals import delivery_archived
        from kontaktbok.privacy import (
            elevmappe,
            kinds,  # noqa: F401  (registers notification kinds)
        )

        delivery_archived.connect(elevmappe.on_archived, dispatch_uid="privacy.year_record")
