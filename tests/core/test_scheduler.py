import datetime as dt

import time_machine

from kontaktbok.core import scheduler


def test_tick_enqueues_tasks_due_this_minute(db):
    names = [p.task.name for p in scheduler.registered()]
    assert "clear_expired_sessions" in names
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC), tick=False):
        assert "clear_expired_sessions" in scheduler.tick()
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 1, tzinfo=dt.UTC), tick=False):
        assert "clear_expired_sessions" not in scheduler.tick()
