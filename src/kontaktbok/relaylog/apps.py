from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelayLogConfig(AppConfig):
    name = "kontaktbok.relaylog"
    label = "relaylog"
    verbose_name = _("Relay logs")

    def ready(self) -> None:
        from kontaktbok.relaylog import kinds  # noqa: F401  (registers notification kinds)
