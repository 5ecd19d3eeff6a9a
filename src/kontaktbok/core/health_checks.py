"""Core's lines in ``/healthz``: the scheduler and the task queue.

Both are critical: the missing-pupil lookup escalates from a periodic task and its alerts
are sent by the workers, so a scheduler that stopped ticking or a queue nobody takes from
makes ``/healthz`` fail (and an orchestrator restart ``kontaktbok serve``)."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from kontaktbok.core import clock, health, scheduler


@health.register("scheduler", critical=True)
def scheduler_line() -> dict[str, Any]:
    last = scheduler.last_tick()
    if last is None:
        return {"ok": False, "state": "never", "last_tick": None}
    late = clock.now() - last > dt.timedelta(seconds=settings.SCHEDULER_LATE_SECONDS)
    return {
        "ok": not late,
        "state": "late" if late else "ok",
        "last_tick": last.isoformat(timespec="seconds"),
    }


@health.register("task_queue", critical=True)
def task_queue_line() -> dict[str, Any]:
    if not scheduler.uses_database_queue():
        return {"ok": True, "state": "off", "oldest_waiting": None}
    from django_tasks_db.models import DBTaskResult

    oldest = (
        DBTaskResult.objects.ready()
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    # The queue's rows carry the real time (the demo's clock may be moved), so compare so.
    late = oldest is not None and timezone.now() - oldest > dt.timedelta(
        seconds=settings.TASK_QUEUE_LATE_SECONDS
    )
    return {
        "ok": not late,
        "state": "late" if late else "ok",
        "oldest_waiting": oldest.isoformat(timespec="seconds") if oldest else None,
    }
