"""Taking backups on schedule or by hand, keeping them where the operator asked, pruning
old ones, and telling the school admins when a backup fails or is missing.

A backup runs outside any database transaction: the snapshot is taken by its own
connection (SQLite's backup API, ``pg_dump``), and the run is recorded before and after."""

import logging
from importlib.metadata import version
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction

from kontaktbok.backups import archive, retention, selectors, storage
from kontaktbok.backups.kinds import BACKUP_FAILED, BACKUP_LATE
from kontaktbok.backups.models import BackupRun
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.notifications.services import Outgoing, notify_many
from kontaktbok.schools.models import School, StaffRole
from kontaktbok.schools.selectors import staff_holding

log = logging.getLogger(__name__)


def key_files() -> dict[str, Path]:
    """The data dir's secrets, by the name they have in a backup."""
    files = {name: Path(settings.DATA_DIR) / name for name in archive.KEY_FILES}
    files["vapid_private.pem"] = Path(settings.VAPID_PRIVATE_KEY_FILE)
    return files


def take_backup(*, output: Path | None = None) -> BackupRun:
    """Write one encrypted backup, copy it to every destination, prune old ones there, and
    record the run; a failure is recorded and told to the school admins, not raised."""
    started = clock.now()
    run = BackupRun.objects.create(started_at=started)
    name = output.name if output else storage.name_for(started)
    path = output or Path(settings.BACKUP_DIR) / name
    try:
        if not settings.BACKUP_RECIPIENT:
            raise archive.BackupError("KONTAKTBOK_BACKUP_RECIPIENT is not set.")
        manifest = archive.create(
            output=path,
            recipient=settings.BACKUP_RECIPIENT,
            database=archive.Database.from_django(dict(connection.settings_dict)),
            data_dir=Path(settings.DATA_DIR),
            media_dir=Path(default_storage.path("")),
            key_files=key_files(),
            version=version("kontaktbok"),
        )
        stored, pruned = [], 0
        for destination in storage.destinations(settings):
            if output is None or isinstance(destination, storage.S3Bucket):
                destination.put(path)
                stored.append(destination.label)
                pruned += prune(destination)
    except Exception as exc:  # every failure is recorded and told, whatever its kind
        log.exception("backup failed")
        return _failed(run, str(exc) or exc.__class__.__name__)
    with transaction.atomic():
        run.status = BackupRun.Status.DONE
        run.finished_at = clock.now()
        run.name = path.name
        run.size = path.stat().st_size
        run.rows = sum(manifest["counts"].values())
        run.stored_in = ", ".join(stored) or str(path.parent)
        run.pruned = pruned
        run.save()
        audit_log(
            actor=None,
            action="backups.taken",
            obj=run,
            detail={"name": run.name, "size": run.size, "stored_in": run.stored_in},
        )
    return run


def _failed(run: BackupRun, error: str) -> BackupRun:
    with transaction.atomic():
        run.status = BackupRun.Status.FAILED
        run.finished_at = clock.now()
        run.error = error[:2000]
        run.save()
        audit_log(actor=None, action="backups.failed", obj=run, detail={"error": run.error})
        started = clock.local_now().replace(microsecond=0).isoformat(" ", "minutes")
        _tell_school_admins(
            kind=BACKUP_FAILED.code,
            dedup_key=f"backups.failed:{run.pk}",
            payload={"started": started, "error": run.error[:300]},
        )
    return run


def prune(destination: storage.Destination) -> int:
    """Delete the backups in ``destination`` that the retention rule does not keep."""
    keep = retention.Keep.parse(settings.BACKUP_KEEP)
    taken = [(name, storage.taken_at(name)) for name in destination.names()]
    kept = retention.to_keep([(n, t) for n, t in taken if t is not None], keep)
    gone = [name for name, _at in taken if name not in kept]
    for name in gone:
        destination.delete(name)
    return len(gone)


def back_up_if_due() -> BackupRun | None:
    """The scheduled backup: once after each day's ``BACKUP_AT`` (school-local), with a new
    try each hour after a failure; then the alert if the last success is too old."""
    run = None
    if selectors.backup_due(clock.now()):
        run = take_backup()
    alert_if_late()
    return run


def alert_if_late() -> None:
    """Tell the school admins, once per missed day, that no backup succeeded in time."""
    health = selectors.backup_health(clock.now())
    if health.state != selectors.LATE:
        return
    last = health.last_success
    with transaction.atomic():
        _tell_school_admins(
            kind=BACKUP_LATE.code,
            dedup_key=f"backups.late:{health.expected_after:%Y-%m-%d}",
            payload={
                "last": (
                    last.astimezone(clock.SCHOOL_TZ).isoformat(" ", "minutes") if last else "–"
                ),
                "at": settings.BACKUP_AT,
            },
        )


def _tell_school_admins(*, kind: str, dedup_key: str, payload: dict[str, str]) -> None:
    for school_id in School.objects.values_list("pk", flat=True):
        admins = staff_holding(school_id, [StaffRole.Role.SCHOOL_ADMIN])
        notify_many(
            kind=kind,
            items=[
                Outgoing(recipient=user, dedup_key=dedup_key, payload=payload, url="")
                for user in admins
            ],
            school_id=school_id,
        )
