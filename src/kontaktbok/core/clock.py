"""School-local time. Every deadline is a school setting in Europe/Oslo; ask here.

Outside production the demo can run on a moved clock (``kontaktbok demo_clock``): the
offset is kept in a file in the data directory, so the web server, the worker and the
scheduler all see the same time; each reads it again once its copy is
``DEMO_CLOCK_CACHE_SECONDS`` old (2 s by default). Production never reads it.
"""

import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

SCHOOL_TZ = ZoneInfo("Europe/Oslo")
_offset_cache: tuple[float, dt.timedelta] = (-1e9, dt.timedelta(0))


def demo_offset() -> dt.timedelta:
    """How far the demo clock is moved from real time (zero in production)."""
    global _offset_cache
    path = getattr(settings, "DEMO_CLOCK_FILE", None)
    if path is None:
        return dt.timedelta(0)
    checked, offset = _offset_cache
    if time.monotonic() - checked < settings.DEMO_CLOCK_CACHE_SECONDS:
        return offset
    try:
        offset = dt.timedelta(seconds=float(path.read_text().strip() or 0))
    except (OSError, ValueError):
        offset = dt.timedelta(0)
    _offset_cache = (time.monotonic(), offset)
    return offset


def set_demo_offset(offset: dt.timedelta | None) -> None:
    """Move the demo clock (None: back to real time)."""
    global _offset_cache
    path = settings.DEMO_CLOCK_FILE
    if path is None:
        raise RuntimeError("the clock cannot be moved in production")
    if offset is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(f"{offset.total_seconds():.0f}\n")
    _offset_cache = (-1e9, dt.timedelta(0))


def now() -> dt.datetime:
    """The current moment, timezone-aware."""
    return timezone.now() + demo_offset()


def local_now() -> dt.datetime:
    """The current moment in school-local time."""
    return now().astimezone(SCHOOL_TZ)


def today() -> dt.date:
    """Today's date at the school."""
    return local_now().date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """The moment ``time`` o'clock on ``day`` at the school, as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=SCHOOL_TZ)


def school_year_start(day: dt.date) -> int:
    """The calendar year in which the school year containing ``day`` starts (August)."""
    return day.year if day.month >= 8 else day.year - 1
