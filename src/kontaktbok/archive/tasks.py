"""The archive app's background work: sending deliveries, the sweep that queues again what
a dead worker left or a retry made due, and the answer timeout (content is deleted after the
archive's receipt by the retention run, ``privacy.retention``)."""

from django.tasks import task

from kontaktbok.archive import delivery, services
from kontaktbok.core.scheduler import periodic


@task
def send_delivery(delivery_id: int) -> str | None:
    """Send one delivery to the archive (idempotent: only one worker can claim it)."""
    return delivery.send(delivery_id)


@periodic(every_minutes=1)
@task
def sweep_deliveries() -> int:
    """Queue deliveries that are due (retries, and what a dead worker left)."""
    due = services.due_deliveries()
    for pk in due:
        send_delivery.enqueue(pk)
    return len(due)


@periodic(every_minutes=5)
@task
def time_out_deliveries() -> int:
    """Deliveries the archive has not answered in time fail; their staff are told."""
    return services.deliveries_time_out()
