from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "kontaktbok.archive"
    label = "archive"
    verbose_name = _("Archive")

    def ready(self) -> None:
        from kontaktbok.archive import kinds  # noqa: F401  (registers notification kinds)
