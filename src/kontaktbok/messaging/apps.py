from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "kontaktbok.messaging"
    label = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from kontaktbok.messaging import kinds  # noqa: F401  (registers notification kinds)
