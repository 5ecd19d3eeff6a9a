from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AbsenceConfig(AppConfig):
    name = "kontaktbok.absence"
    label = "absence"
    verbose_name = _("Absence")

    def ready(self) -> None:
        from kontaktbok.absence import kinds  # noqa: F401  (registers notification kinds)
