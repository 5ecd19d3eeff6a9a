"""The demo's clock: set to a school morning, run forward, reset; never in production."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from kontaktbok.core import clock
from kontaktbok.demo import clock as demo_clock
from tests import factories

OSLO = ZoneInfo("Europe/Oslo")
pytestmark = pytest.mark.django_db


@pytest.fixture
def clock_file(settings, tmp_path):
    settings.DEMO_CLOCK_FILE = tmp_path / "demo-clock"
    clock.set_demo_offset(None)
    yield settings.DEMO_CLOCK_FILE
    clock.set_demo_offset(None)


@pytest.fixture
def school():
    school = factories.school()
    factories.school_year(school)
    return school


def test_a_sunday_evening_moves_to_monday_morning(clock_file, school):
    with time_machine.travel(dt.datetime(2026, 11, 29, 20, 15, tzinfo=OSLO), tick=False):
        moved = demo_clock.to_school_morning(school)
        assert moved == dt.datetime(2026, 11, 30, 9, 0, tzinfo=OSLO)
        assert clock.today() == dt.date(2026, 11, 30)
        assert demo_clock.forward(45) == dt.datetime(2026, 11, 30, 9, 45, tzinfo=OSLO)
        assert demo_clock.reset() == dt.datetime(2026, 11, 29, 20, 15, tzinfo=OSLO)
        assert not clock_file.exists()


def test_a_school_morning_keeps_real_time(clock_file, school):
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, 30, tzinfo=OSLO), tick=False):
        assert demo_clock.to_school_morning(school) == dt.datetime(
            2026, 11, 24, 10, 30, tzinfo=OSLO
        )
        assert clock.demo_offset() == dt.timedelta(0)


def test_a_second_demo_never_moves_the_clock_back(clock_file, school):
    """``make demo`` on Sunday evening moved to Monday 09:00; the visitor ran it 45 minutes
    forward to see an escalation; ``make demo`` again keeps 09:45."""
    with time_machine.travel(dt.datetime(2026, 11, 29, 20, 15, tzinfo=OSLO), tick=False):
        demo_clock.to_school_morning(school)
        demo_clock.forward(45)
        assert demo_clock.to_school_morning(school) == dt.datetime(2026, 11, 30, 9, 45, tzinfo=OSLO)


def test_the_clock_is_set_to_a_given_time(clock_file, school):
    with time_machine.travel(dt.datetime(2026, 11, 29, 20, 15, tzinfo=OSLO), tick=False):
        call_command("demo_clock", "--at", "2026-12-03 07:45")
        assert clock.local_now() == dt.datetime(2026, 12, 3, 7, 45, tzinfo=OSLO)
        call_command("demo_clock", "--at", "2026-11-24 07:45")  # back, when asked
        assert clock.local_now() == dt.datetime(2026, 11, 24, 7, 45, tzinfo=OSLO)
        with pytest.raises(CommandError):
            call_command("demo_clock", "--at", "tomorrow")


def test_the_autumn_holiday_is_skipped(clock_file, school):
    with time_machine.travel(dt.datetime(2026, 9, 25, 16, 0, tzinfo=OSLO), tick=False):
        moved = demo_clock.to_school_morning(school)
    assert moved.date() == dt.date(2026, 10, 5)  # Haustferie 28.9.–2.10.


def test_production_never_moves_the_clock(settings):
    settings.DEMO_CLOCK_FILE = None
    with pytest.raises(RuntimeError):
        clock.set_demo_offset(dt.timedelta(hours=1))
    assert clock.demo_offset() == dt.timedelta(0)
