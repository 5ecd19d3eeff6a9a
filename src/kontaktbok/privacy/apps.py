from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "kontaktbok.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from kontaktbok.privacy import kinds  # noqa: F401  (registers notification kinds)
