"""The demo's clock: a demo is tried at any hour, but the morning routines (registration,
looking for missing pupils, escalation) need a school morning. Outside production the
clock can be set to the next school morning, or run forward to see an escalation."""

import datetime as dt

from kontaktbok.core import clock
from kontaktbok.schools import selectors
from kontaktbok.schools.models import School

# Early enough for the daily check, late enough that a pupil registered absent in grades
# 1–7 is looked for at once.
MORNING = dt.time(9, 0)
AFTERNOON = dt.time(15, 0)


def next_school_morning(school: School, now: dt.datetime) -> dt.datetime | None:
    """``now`` itself if it is within a school day's morning and midday, else the next
    school day at 09:00 (None when the school has no more school days this year)."""
    local = now.astimezone(clock.SCHOOL_TZ)
    year = selectors.current_school_year(school, local.date())
    if year is None:
        return None
    lookup = min(school.lookup_time_primary, MORNING)
    for day in selectors.school_days(year, local.date(), year.ends_on):
        if day == local.date() and lookup <= local.time() < AFTERNOON:
            return None  # already a school morning: keep real time
        if day > local.date() or local.time() < lookup:
            return clock.at(day, MORNING)
    return None


def to_school_morning(school: School) -> dt.datetime:
    """Move the demo clock forward to the next school morning if the time it shows is not
    one; returns the time the demo now runs on. It never moves back: a demo run forward to
    see an escalation, or already on a school morning, stays where it is."""
    shown = clock.now()
    target = next_school_morning(school, shown)
    if target is not None:
        real = shown - clock.demo_offset()
        clock.set_demo_offset(target - real)
    return clock.local_now()


def to(moment: dt.datetime) -> dt.datetime:
    """Set the demo clock to ``moment`` (forward or back: asked for by name)."""
    real = clock.now() - clock.demo_offset()
    clock.set_demo_offset(moment - real)
    return clock.local_now()


def forward(minutes: int) -> dt.datetime:
    clock.set_demo_offset(clock.demo_offset() + dt.timedelta(minutes=minutes))
    return clock.local_now()


def reset() -> dt.datetime:
    clock.set_demo_offset(None)
    return clock.local_now()
