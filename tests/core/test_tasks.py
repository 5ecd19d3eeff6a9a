"""Housekeeping: finished task rows are pruned, waiting and running ones never."""

import datetime as dt

from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kontaktbok.core import scheduler, tasks


def _row(status: str, finished_days_ago: float | None) -> DBTaskResult:
    now = timezone.now()
    finished = None if finished_days_ago is None else now - dt.timedelta(days=finished_days_ago)
    return DBTaskResult.objects.create(
        status=status,
        finished_at=finished,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="kontaktbok.core.tasks.clear_expired_sessions",
        backend_name="default",
        run_after=now,
        exception_class_path="",
        traceback="",
    )


def test_finished_task_rows_are_pruned_after_the_days_kept(db, settings):
    settings.TASK_RESULTS_KEEP_DAYS = 7
    old_done = _row(TaskResultStatus.SUCCESSFUL, 8)
    old_failed = _row(TaskResultStatus.FAILED, 8)
    recent = _row(TaskResultStatus.SUCCESSFUL, 1)
    waiting = _row(TaskResultStatus.READY, None)
    running = _row(TaskResultStatus.RUNNING, None)
    assert tasks.prune_finished_tasks.call() == 2
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent.pk, waiting.pk, running.pk}
    assert not {old_done.pk, old_failed.pk} & left
    assert "prune_finished_tasks" in [p.task.name for p in scheduler.registered()]
