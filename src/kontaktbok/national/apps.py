from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NationalConfig(AppConfig):
    name = "kontaktbok.national"
    label = "national"
    verbose_name = _("National login")

    def ready(self) -> None:
        from kontaktbok.national import signals  # noqa: F401  (connects the login signal)
