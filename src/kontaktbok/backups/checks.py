"""Deployment checks for backups (``kontaktbok check --deploy``)."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from kontaktbok.backups.retention import Keep
from kontaktbok.backups.selectors import backup_time


@register(deploy=True)
def backups_configured(app_configs: Any, **kwargs: Any) -> list[Warning | Error]:
    """A server without backups loses everything with its disk; a wrong setting is found
    at deployment, not at 02:00 the night it is needed."""
    from pyrage import RecipientError, x25519

    problems: list[Warning | Error] = []
    if not settings.BACKUP_RECIPIENT:
        problems.append(
            Warning(
                "KONTAKTBOK_BACKUP_RECIPIENT is not set: no backups are taken.",
                hint="Set it to an age public key (age1...); keep the private key off the "
                "server. See docs/operations.md.",
                id="kontaktbok.W010",
            )
        )
    else:
        try:
            x25519.Recipient.from_str(settings.BACKUP_RECIPIENT.strip())
        except RecipientError:
            problems.append(
                Error(
                    "KONTAKTBOK_BACKUP_RECIPIENT is not an age public key.",
                    id="kontaktbok.E011",
                )
            )
    try:
        backup_time()
        Keep.parse(settings.BACKUP_KEEP)
    except ValueError as exc:
        problems.append(
            Error(
                f"KONTAKTBOK_BACKUP_AT or KONTAKTBOK_BACKUP_KEEP cannot be read: {exc}",
                hint='For example KONTAKTBOK_BACKUP_AT=02:00 and KONTAKTBOK_BACKUP_KEEP="7,4,12".',
                id="kontaktbok.E012",
            )
        )
    return problems
