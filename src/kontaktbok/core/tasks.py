"""Periodic housekeeping."""

import datetime as dt

from django.conf import settings
from django.core.management import call_command
from django.tasks import task
from django.utils import timezone

from kontaktbok.core import audit_seal
from kontaktbok.core.scheduler import periodic


@periodic(every_minutes=60)
@task
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@periodic(every_minutes=60)
@task
def prune_finished_tasks() -> int:
    """Delete the rows of tasks that finished (done or failed) more than
    ``TASK_RESULTS_KEEP_DAYS`` days ago, so the queue the workers claim from stays small;
    returns how many. Waiting and running tasks are never touched."""
    from django_tasks_db.models import DBTaskResult

    before = timezone.now() - dt.timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    deleted, _by_model = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    return deleted


@periodic(every_minutes=1)
@task
def seal_audit_log() -> int:
    """Seal the audit rows written since the last run into their day's hash chain
    (``core/audit_seal.py``); returns how many."""
    return audit_seal.seal_pending()
