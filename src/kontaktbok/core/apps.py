from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kontaktbok.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Registered on import: the scheduler's and the task queue's lines in /healthz.
        from kontaktbok.core import health_checks  # noqa: F401
