"""Is a backup due, and is the last one recent enough?"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from kontaktbok.backups.models import BackupRun
from kontaktbok.core import clock

OFF, OK, LATE = "off", "ok", "late"
# A scheduled backup is retried this long after a failed or stuck attempt.
RETRY_AFTER = dt.timedelta(hours=1)
# How long after its time a backup may take before it counts as missing.
GRACE = dt.timedelta(hours=3)


def backup_time() -> dt.time:
    return dt.time.fromisoformat(settings.BACKUP_AT)


def last_slot(moment: dt.datetime) -> dt.datetime:
    """The latest scheduled backup time (``BACKUP_AT``, school-local) at or before
    ``moment``."""
    local = moment.astimezone(clock.SCHOOL_TZ)
    slot = clock.at(local.date(), backup_time())
    if slot > local:
        slot = clock.at(local.date() - dt.timedelta(days=1), backup_time())
    return slot


def backup_due(moment: dt.datetime) -> bool:
    """A scheduled backup should start: none succeeded since the last slot, and none was
    tried in the last hour."""
    if not settings.BACKUP_RECIPIENT:
        return False
    since = last_slot(moment)
    runs = BackupRun.objects.filter(started_at__gte=since)
    if runs.filter(status=BackupRun.Status.DONE).exists():
        return False
    return not runs.filter(started_at__gt=moment - RETRY_AFTER).exists()


@dataclass(frozen=True)
class BackupHealth:
    state: str  # OFF, OK or LATE
    last_success: dt.datetime | None
    expected_after: dt.datetime
    last_error: str = ""


def backup_health(moment: dt.datetime) -> BackupHealth:
    """LATE when no backup has succeeded since the last slot that is more than ``GRACE``
    old; OFF when backups are not configured."""
    expected_after = last_slot(moment - GRACE)
    last_done = (
        BackupRun.objects.filter(status=BackupRun.Status.DONE).values_list("started_at").first()
    )
    last_success = last_done[0] if last_done else None
    if not settings.BACKUP_RECIPIENT:
        return BackupHealth(OFF, last_success, expected_after)
    if last_success is not None and last_success >= expected_after:
        return BackupHealth(OK, last_success, expected_after)
    failed = BackupRun.objects.filter(status=BackupRun.Status.FAILED).values_list("error").first()
    return BackupHealth(LATE, last_success, expected_after, failed[0] if failed else "")
