from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelayLogConfig(AppConfig):
    name = "kontaktbok.relaylog"
    label = "relaylog"
    verbose_name = _("Relay logs")

    def ready(self) -> None:
        from kontaktbok.accounts.backends import id_porten_only
        from kontaktbok.archive.signals import delivery_archived
        from kontaktbok.national.services import allow_login
        from kontaktbok.relaylog import access, closing, kinds  # noqa: F401  (kinds: notifications)

        delivery_archived.connect(closing.on_archived, dispatch_uid="relaylog.archived")
        allow_login(access.takes_part_from_outside)
        id_porten_only(access.outsider_only)
