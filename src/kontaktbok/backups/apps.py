from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "kontaktbok.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self) -> None:
        # Registered on import: the health line and the deployment checks.
        from kontaktbok.backups import checks, health  # noqa: F401
