"""When a non-urgent notification may go out: the sending window and staff working hours."""

import datetime as dt

from django.conf import settings

from kontaktbok.core import clock


def _next_weekday_start(local: dt.datetime, start: dt.time) -> dt.datetime:
    day = local.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return clock.at(day, start)


def next_in_window(
    moment: dt.datetime, start: dt.time, end: dt.time, weekdays_only: bool = False
) -> dt.datetime:
    """``moment`` if it lies in [start, end) school-local time, else the next start."""
    local = moment.astimezone(clock.SCHOOL_TZ)
    if weekdays_only and local.weekday() >= 5:
        return _next_weekday_start(local - dt.timedelta(days=1), start)
    if local.time() < start:
        return clock.at(local.date(), start)
    if local.time() >= end:
        if weekdays_only:
            return _next_weekday_start(local, start)
        return clock.at(local.date() + dt.timedelta(days=1), start)
    return moment


def sending_window() -> tuple[dt.time, dt.time]:
    return settings.NOTIFY_WINDOW_START, settings.NOTIFY_WINDOW_END


def first_allowed(
    moment: dt.datetime, *, working_hours: tuple[dt.time, dt.time] | None
) -> dt.datetime:
    """The first moment at or after ``moment`` inside the sending window and, for staff,
    inside their working hours (Monday to Friday)."""
    start, end = sending_window()
    allowed = next_in_window(moment, start, end)
    if working_hours is not None:
        allowed = next_in_window(allowed, working_hours[0], working_hours[1], weekdays_only=True)
        # Working hours that begin before the window opens: wait for it that morning.
        allowed = next_in_window(allowed, start, end)
    return allowed


def next_digest_time(moment: dt.datetime) -> dt.datetime:
    """Today's digest time if it is still ahead, else tomorrow's."""
    local = moment.astimezone(clock.SCHOOL_TZ)
    today = clock.at(local.date(), settings.NOTIFY_DIGEST_TIME)
    return (
        today
        if today > moment
        else clock.at(local.date() + dt.timedelta(days=1), settings.NOTIFY_DIGEST_TIME)
    )
