import datetime as dt

import time_machine

from kontaktbok.core import scheduler

MONDAY_8 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def at(minutes: int) -> time_machine.travel:
    return time_machine.travel(MONDAY_8 + dt.timedelta(minutes=minutes), tick=False)


def test_tick_enqueues_tasks_due_this_minute(db, queued_tasks):
    names = [p.task.name for p in scheduler.registered()]
    assert "clear_expired_sessions" in names
    with at(0):
        assert "clear_expired_sessions" in scheduler.tick()
    with at(1):
        ticked = scheduler.tick()
    assert "clear_expired_sessions" not in ticked
    assert "sweep_deliveries" in ticked


def test_a_missed_minute_is_caught_up_once_not_skipped(db, queued_tasks):
    """The scheduler was down over 09:00 (an hourly task) and 08:55 (a five-minute one):
    the first tick after runs each of them once."""
    with at(54):
        scheduler.tick()
    with at(62):
        ticked = scheduler.tick()
    assert ticked.count("clear_expired_sessions") == 1
    assert ticked.count("send_digests") == 1
    with at(63):
        ticked = scheduler.tick()
    assert "clear_expired_sessions" not in ticked
    assert "send_digests" not in ticked


def test_two_ticks_in_one_minute_run_each_task_once(db, queued_tasks):
    with at(0):
        first = scheduler.tick()
        second = scheduler.tick()
    assert "clear_expired_sessions" in first
    assert second == []
    assert [name for name, *_ in queued_tasks].count("clear_expired_sessions") == 1


def test_a_clock_set_back_counts_from_the_new_time(db, queued_tasks):
    with at(120):
        scheduler.tick()
    with at(60):
        assert "clear_expired_sessions" in scheduler.tick()
    with at(61):
        assert "clear_expired_sessions" not in scheduler.tick()


def test_the_last_tick_is_remembered(db, queued_tasks):
    assert scheduler.last_tick() is None
    with at(7):
        scheduler.tick()
    assert scheduler.last_tick() == MONDAY_8 + dt.timedelta(minutes=7)


def test_the_console_gets_one_line_a_minute_of_counts(db, settings):
    from django.utils import timezone

    from kontaktbok.notifications.tasks import send_digests

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    since = timezone.now()
    send_digests.enqueue()
    line = scheduler.minute_summary(since)
    assert line.endswith("kontaktbok: 0 tasks done, 0 failed, 1 waiting")


def test_ctrl_c_stops_the_scheduler_without_a_traceback(db, monkeypatch):
    def interrupted() -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(scheduler, "tick", interrupted)
    scheduler.run_forever()  # returns
