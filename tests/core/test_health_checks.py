"""``/healthz`` fails when the scheduler stops ticking or the task queue stops moving: the
missing-pupil lookup escalates from one and sends its alerts through the other."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from kontaktbok.core import scheduler
from kontaktbok.notifications.tasks import send_digests

NOON = dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)


def healthz() -> tuple[int, dict]:
    response = Client().get("/healthz")
    return response.status_code, response.json()


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_a_scheduler_that_never_ticked_fails(db, queued_tasks):
    status, body = healthz()
    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"]["scheduler"] == {"ok": False, "state": "never", "last_tick": None}


def test_a_scheduler_late_by_more_than_the_limit_fails(db, queued_tasks, settings):
    settings.SCHEDULER_LATE_SECONDS = 180
    with time_machine.travel(NOON, tick=False):
        scheduler.tick()
    with time_machine.travel(NOON + dt.timedelta(minutes=3), tick=False):
        status, body = healthz()
    assert (status, body["checks"]["scheduler"]["state"]) == (200, "ok")
    with time_machine.travel(NOON + dt.timedelta(minutes=3, seconds=1), tick=False):
        status, body = healthz()
    assert status == 503
    assert body["checks"]["scheduler"] == {
        "ok": False,
        "state": "late",
        "last_tick": "2026-12-01T11:00:00+00:00",
    }


def test_a_task_waiting_too_long_for_a_worker_fails(db, database_queue, settings):
    settings.TASK_QUEUE_LATE_SECONDS = 120
    with time_machine.travel(NOON, tick=False):
        result = send_digests.enqueue()
        scheduler.tick()  # the scheduler is fine; no worker takes from the queue
    with time_machine.travel(NOON + dt.timedelta(seconds=120), tick=False):
        status, body = healthz()
    assert (status, body["checks"]["task_queue"]["state"]) == (200, "ok")
    with time_machine.travel(NOON + dt.timedelta(seconds=121), tick=False):
        status, body = healthz()
    assert status == 503
    assert body["checks"]["task_queue"] == {
        "ok": False,
        "state": "late",
        "oldest_waiting": "2026-12-01T11:00:00+00:00",
    }
    assert result.id


def test_a_moving_queue_and_a_ticking_scheduler_are_ok(db, database_queue):
    scheduler.tick()
    status, body = healthz()
    assert status == 200
    assert body["checks"]["scheduler"]["state"] == "ok"
    oldest = dt.datetime.fromisoformat(body["checks"]["task_queue"]["oldest_waiting"])
    assert timezone.now() - oldest < dt.timedelta(minutes=1)  # the tick's tasks, just queued
