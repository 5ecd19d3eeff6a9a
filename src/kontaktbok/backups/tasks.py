from django.tasks import task

from kontaktbok.backups import services
from kontaktbok.core.scheduler import periodic


@periodic(every_minutes=5)
@task
def back_up_if_due() -> None:
    """The nightly backup (``KONTAKTBOK_BACKUP_AT``), and the alert when it is missing."""
    services.back_up_if_due()
