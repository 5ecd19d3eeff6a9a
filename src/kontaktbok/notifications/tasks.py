"""Background work for notifications: deliver a row, sweep, send digests."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.notifications import delivery as delivery_engine
from kontaktbok.notifications import digest


@task
def deliver(delivery_id: int) -> str | None:
    return delivery_engine.deliver(delivery_id)


@periodic(every_minutes=1)
@task
def sweep_deliveries() -> int:
    """Re-queue what a dead worker left, and what waited for its sending time."""
    due = delivery_engine.sweep()
    for pk in due:
        deliver.enqueue(pk)
    return len(due)


@periodic(every_minutes=5)
@task
def send_digests() -> int:
    return digest.send_due_digests()
