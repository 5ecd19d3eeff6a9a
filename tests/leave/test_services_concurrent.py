"""Two leave applications for one child sent at the same moment, each on its own database
connection (committed data, real threads): the second sees the first and is refused as an
overlap, on PostgreSQL (the pupil's row is locked) as on SQLite (one writer at a time)."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kontaktbok.leave import selectors
from kontaktbok.leave.models import LeaveApplication
from tests.leave.helpers import MONDAY, apply

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_overlapping_applications_at_once_make_one(world, monkeypatch):
    read = selectors.pupil_applications
    first_has_read = threading.Event()
    second_starts = threading.Event()

    def read_then_wait_for_the_second(*args, **kwargs):
        found = read(*args, **kwargs)
        if threading.current_thread().name == "first":
            first_has_read.set()
            second_starts.wait(10)
            time.sleep(0.5)  # the second is now waiting for the first, or reading past it
        return found

    monkeypatch.setattr(selectors, "pupil_applications", read_then_wait_for_the_second)
    outcome: dict[str, object] = {}

    def run(name: str, start: dt.date, end: dt.date) -> None:
        try:
            outcome[name] = apply(world, start, end)
        except ValidationError as exc:
            outcome[name] = exc
        finally:
            connection.close()

    first = threading.Thread(
        target=run, args=("first", MONDAY, MONDAY + dt.timedelta(days=2)), name="first"
    )
    second = threading.Thread(
        target=run,
        args=("second", MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=3)),
        name="second",
    )
    first.start()
    assert first_has_read.wait(10)
    second.start()
    second_starts.set()
    first.join(30)
    second.join(30)
    assert isinstance(outcome["first"], LeaveApplication)
    assert isinstance(outcome["second"], ValidationError), outcome["second"]
    assert "start_date" in outcome["second"].message_dict
    assert LeaveApplication.objects.count() == 1
