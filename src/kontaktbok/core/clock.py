"""School-local time. Every deadline is a school setting in Europe/Oslo; ask here."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

SCHOOL_TZ = ZoneInfo("Europe/Oslo")


def now() -> dt.datetime:
    """The current moment, timezone-aware."""
    return timezone.now()


def local_now() -> dt.datetime:
    """The current moment in school-local time."""
    return timezone.now().astimezone(SCHOOL_TZ)


def today() -> dt.date:
    """Today's date at the school."""
    return local_now().date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """The moment ``time`` o'clock on ``day`` at the school, as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=SCHOOL_TZ)


def school_year_start(day: dt.date) -> int:
    """The calendar year in which the school year containing ``day`` starts (August)."""
    return day.year if day.month >= 8 else day.year - 1
