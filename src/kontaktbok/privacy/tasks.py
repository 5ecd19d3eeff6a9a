"""The privacy app's background work: copies of a person's data (built in the request's
own transaction, deleted after the week, a safety net for crashed builds) and the daily
retention run."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.privacy import elevmappe, retention, services


@task
def build_export(*, export_id: int) -> None:
    """Collect, pack, encrypt and offer the copy; tell the person."""
    services.export_build(export_id=export_id)


@periodic(every_minutes=60)
@task
def delete_expired_exports() -> int:
    """Delete the files of copies whose seven days are over."""
    return services.exports_delete_expired()


@periodic(every_minutes=15)
@task
def build_stale_exports() -> int:
    """Queue again requests a crashed worker left unbuilt."""
    return services.exports_build_stale()


@periodic(every_minutes=24 * 60)  # once a day, at midnight UTC (night in Norway)
@task
def retention_run() -> dict[str, int]:
    """Delete what the retention rules say is due today; returns the counts per rule."""
    return {o.rule.code: o.deleted for o in retention.run()}


@periodic(every_minutes=60)
@task
def deliver_year_records() -> int:
    """Hand the pupils' year-end documents (elevmappe) of past school years to the archive,
    a batch an hour; returns how many were handed over."""
    return elevmappe.year_records_deliver()
