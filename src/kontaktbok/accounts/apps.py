from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kontaktbok.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from kontaktbok.accounts import (
            kinds,  # noqa: F401  (registers notification kinds)
            login_audit,  # noqa: F401  (audits every login)
        )
