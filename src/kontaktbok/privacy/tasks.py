"""Background work for copies of a person's data: building one, queued in the request's
own transaction, and the periodic deletion after the week and safety net."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.privacy import services


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
