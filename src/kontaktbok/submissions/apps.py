from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    name = "kontaktbok.submissions"
    label = "submissions"
    verbose_name = _("Secure submissions")

    def ready(self) -> None:
        from kontaktbok.submissions import kinds  # noqa: F401  (registers notification kinds)
