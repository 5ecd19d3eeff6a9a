"""The one scheduler: every minute it enqueues the periodic tasks that are due.

Run exactly one (``kontaktbok scheduler``), or call ``kontaktbok tick`` from cron each
minute. Each task's last tick is kept in the database (``PeriodicRun``): a tick runs what
fell due since then, once, so a missed minute delays a task instead of skipping it, and two
ticks of one minute run it once. Tasks themselves are idempotent all the same.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Max
from django.tasks import Task

from kontaktbok.core import clock
from kontaktbok.core.models import PeriodicRun

log = logging.getLogger(__name__)

# The task queue in the database (django-tasks-db), which the workers take from.
DATABASE_QUEUE = "django_tasks_db.DatabaseBackend"


def uses_database_queue() -> bool:
    from django.conf import settings

    return bool(settings.TASKS["default"]["BACKEND"] == DATABASE_QUEUE)


@dataclass(frozen=True)
class Periodic:
    task: Task
    every_minutes: int


_REGISTRY: list[Periodic] = []


def periodic(every_minutes: int) -> Callable[[Task], Task]:
    """Register a task to be enqueued every ``every_minutes`` minutes."""

    def register(task: Task) -> Task:
        _REGISTRY.append(Periodic(task=task, every_minutes=every_minutes))
        return task

    return register


def registered() -> list[Periodic]:
    from django.apps import apps

    for config in apps.get_app_configs():  # import each app's tasks module once
        try:
            __import__(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise
    return list(_REGISTRY)


def tick() -> list[str]:
    """Enqueue every periodic task that fell due since its last tick; returns their names."""
    minute = int(clock.now().timestamp() // 60)
    due = [item for item in registered() if _take(item, minute)]
    for item in due:
        item.task.enqueue()
    return [item.task.name for item in due]


def _take(item: Periodic, minute: int) -> bool:
    """Move the task's last tick to ``minute``; whether a minute it is due on lies between.

    The move is a conditional update, so of two ticks that read the same last minute only
    one runs the task. A task never ticked counts from the minute before (due on a
    multiple of its interval, as always); a clock set back counts from the new now."""
    run, _created = PeriodicRun.objects.get_or_create(
        name=item.task.name, defaults={"last_minute": minute - 1}
    )
    last = run.last_minute
    if last == minute:
        return False
    moved = PeriodicRun.objects.filter(pk=run.pk, last_minute=last).update(last_minute=minute)
    if not moved:
        return False
    if last > minute:
        last = minute - 1
    return minute - minute % item.every_minutes > last


def last_tick() -> dt.datetime | None:
    """When the scheduler last ticked (to the minute), or ``None`` if it never has."""
    last = PeriodicRun.objects.aggregate(last=Max("last_minute"))["last"]
    return None if last is None else dt.datetime.fromtimestamp(last * 60, tz=dt.UTC)


def minute_summary(since: dt.datetime) -> str:
    """One line for the console of ``kontaktbok serve``: the background work since
    ``since`` and what waits (real time, as the task rows carry)."""
    from django.utils import timezone

    if not uses_database_queue():
        return ""
    from django_tasks_db.models import DBTaskResult

    finished = DBTaskResult.objects.finished().filter(finished_at__gte=since)
    done = finished.filter(status="SUCCESSFUL").count()
    failed = finished.filter(status="FAILED").count()
    waiting = DBTaskResult.objects.ready().count()
    stamp = timezone.localtime(timezone.now(), clock.SCHOOL_TZ)
    return f"{stamp:%H:%M} kontaktbok: {done} tasks done, {failed} failed, {waiting} waiting"


def run_forever() -> None:
    """Tick every minute and print one line of counts; Ctrl+C or SIGTERM end it quietly."""
    from django.utils import timezone

    since = timezone.now()
    try:
        while True:
            try:
                tick()
                line, since = minute_summary(since), timezone.now()
                if line:
                    print(line, flush=True)
            except Exception:
                log.exception("scheduler tick failed")
            time.sleep(60 - time.time() % 60)
    except KeyboardInterrupt:
        return
