"""The one scheduler: every minute it enqueues the periodic tasks that are due.

Run exactly one (``kontaktbok scheduler``), or call ``kontaktbok tick`` from cron each
minute. Tasks themselves must be idempotent, so a doubled tick does no harm.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.tasks import Task

from kontaktbok.core import clock

log = logging.getLogger(__name__)


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
    """Enqueue every periodic task due this minute; returns their names."""
    minute = int(clock.now().timestamp() // 60)
    due = [item for item in registered() if minute % item.every_minutes == 0]
    for item in due:
        item.task.enqueue()
    return [item.task.name for item in due]


def run_forever() -> None:
    while True:
        try:
            tick()
        except Exception:
            log.exception("scheduler tick failed")
        time.sleep(60 - time.time() % 60)
