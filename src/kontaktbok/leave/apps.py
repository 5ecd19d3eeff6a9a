from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeaveConfig(AppConfig):
    name = "kontaktbok.leave"
    label = "leave"
    verbose_name = _("Leave")

    def ready(self) -> None:
        from kontaktbok.leave import kinds  # noqa: F401  (registers notification kinds)
