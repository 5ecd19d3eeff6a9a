from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register

BACKUP_FAILED = register(
    Kind(
        code="backups.failed",
        label=_("A backup failed"),
        title=_("The backup of kontaktbok failed"),
        body=_(
            "The backup started %(started)s failed: %(error)s. Ask the operator of the "
            "server to look at it today; until a backup succeeds, what is lost with the "
            "server cannot be restored."
        ),
    )
)
BACKUP_LATE = register(
    Kind(
        code="backups.late",
        label=_("No recent backup"),
        title=_("kontaktbok has no recent backup"),
        body=_(
            "The last successful backup of kontaktbok was %(last)s. A backup is due every "
            "day at %(at)s. Ask the operator of the server to look at it today."
        ),
    )
)
