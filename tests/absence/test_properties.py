"""Properties of the guardian's report window and of late reports, over any moment.

The routine: a guardian reports absence as early as possible, at the latest on the morning
itself by the school's deadline (a later report is accepted but marked late); past days of
this week may still be reported (late); coming school days up to the school's limit.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from kontaktbok.absence import services
from kontaktbok.schools import selectors
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import Pupil
from tests import factories

OSLO = ZoneInfo("Europe/Oslo")
DAY = dt.timedelta(days=1)
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Family:
    pupil: Pupil
    guardian: Any


@pytest.fixture
def family(db) -> Family:
    """A pupil at a school with two school years (and the summer between), and a guardian.
    Built once per test; the examples only read it, or roll their writes back."""
    school = factories.school()
    year = factories.school_year(school)  # 17 Aug 2026 – 18 Jun 2027, autumn holiday
    admin = factories.staff(school, "school_admin")
    school_services.holiday_add(
        actor=admin,
        school_year=year,
        name="Juleferie",
        starts_on=dt.date(2026, 12, 21),
        ends_on=dt.date(2027, 1, 1),
    )
    school_services.school_year_create(
        actor=None,
        school=school,
        name="2027–2028",
        starts_on=dt.date(2027, 8, 16),
        ends_on=dt.date(2028, 6, 16),
        holidays=[("Haustferie", dt.date(2027, 10, 4), dt.date(2027, 10, 8))],
    )
    group = school_services.group_create(actor=None, school_year=year, name="4A", grade=4)
    pupil = factories.pupil(group)
    guardian = factories.user("Føresett")
    school_services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
    return Family(pupil=Pupil.objects.select_related("school").get(pk=pupil.pk), guardian=guardian)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


# From before the first school year to after the last one (UTC, as the server's clock).
instants = st.datetimes(dt.datetime(2026, 6, 1), dt.datetime(2028, 8, 31)).map(
    lambda naive: naive.replace(tzinfo=dt.UTC)
)
days = st.dates(dt.date(2026, 6, 1), dt.date(2028, 8, 31))
limits = st.integers(1, 60)  # the school's setting (validated 1–60)


@PROPERTY
@given(instants)
@example(dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC))  # 00:30 on Monday in Oslo
@example(dt.datetime(2027, 3, 27, 23, 30, tzinfo=dt.UTC))  # the night clocks go forward
def test_the_window_follows_the_school_local_date(family, now):
    with travel(now):
        window = services.report_window(family.pupil)
    assert window == services.report_window(family.pupil, now.astimezone(OSLO).date())


@PROPERTY
@given(days, limits)
# In June the coming school days were looked for only 120 days ahead: 30 of 31 were open.
@example(dt.date(2026, 6, 1), 31)
def test_the_window_is_this_weeks_past_days_and_the_coming_school_days(family, today, limit):
    school = family.pupil.school
    school.report_max_school_days = limit
    window = services.report_window(family.pupil, today)
    year = selectors.current_school_year(school, today)
    if year is None:
        assert window.earliest > window.latest, "no school year ahead: nothing to report"
        return
    monday = today - today.weekday() * DAY
    assert window.earliest >= monday, "back to Monday this week, no further"
    assert window.earliest >= year.starts_on
    assert window.latest <= year.ends_on, "never into the next school year"
    if selectors.school_days(year, today, today):
        assert window.earliest <= today <= window.latest, "today can always be reported"
    ahead = selectors.school_days(year, today, window.latest)
    left = selectors.school_days(year, today, year.ends_on)
    assert ahead == left[: len(ahead)], "every school day from today to the last is open"
    assert len(ahead) == min(limit, len(left)), "as many school days ahead as the school allows"
    if ahead:
        assert window.latest == ahead[-1], "the window ends on a school day"


@PROPERTY
@given(instants, st.times(), st.integers(-7, 7))
@example(dt.datetime(2026, 11, 24, 7, 30, tzinfo=dt.UTC), dt.time(8, 30), 0)  # 08:30: late
@example(dt.datetime(2026, 11, 24, 7, 29, 59, tzinfo=dt.UTC), dt.time(8, 30), 0)
def test_a_report_is_late_once_its_first_day_has_reached_the_deadline(
    family, now, deadline, offset
):
    family.pupil.school.report_deadline = deadline
    local = now.astimezone(OSLO)
    start = local.date() + offset * DAY
    with travel(now):
        late = services.is_late(family.pupil, start)
    if offset > 0:
        assert not late, "a report for a coming day is never late"
    elif offset < 0:
        assert late, "a report for a past day is always late"
    else:
        assert late == (local.time() >= deadline), "today: late from the deadline on"


school_year_instants = st.datetimes(dt.datetime(2026, 8, 17), dt.datetime(2027, 6, 18)).map(
    lambda naive: naive.replace(tzinfo=dt.UTC)
)


@settings(PROPERTY, max_examples=30)
@given(school_year_instants, st.data())
def test_a_guardian_may_report_any_day_of_the_window_and_no_day_after_it(family, now, data):
    pupil, guardian = family.pupil, family.guardian
    local = now.astimezone(OSLO)
    today = local.date()
    window = services.report_window(pupil, today)
    year = selectors.current_school_year(pupil.school, today)
    reportable = selectors.school_days(year, window.earliest, window.latest)
    assume(reportable)
    first = data.draw(st.sampled_from(reportable), label="first day")
    last = data.draw(st.sampled_from([d for d in reportable if d >= first]), label="last day")
    sick = pupil.school.absence_types.get(code="sick")

    def report(start: dt.date, end: dt.date):
        return services.absence_report_create(
            actor=guardian,
            pupil_id=pupil.pk,
            start_date=start,
            end_date=end,
            absence_type=sick,
        )

    with travel(now):
        with rolled_back():
            created = report(first, last)
            deadline = pupil.school.report_deadline
            assert created.late == (first < today or (first == today and local.time() >= deadline))
        with rolled_back(), pytest.raises(ValidationError) as too_far:
            report(first, window.latest + DAY)
        assert "end_date" in too_far.value.message_dict
        with rolled_back(), pytest.raises(ValidationError) as too_early:
            report(window.earliest - DAY, last)
        assert "start_date" in too_early.value.message_dict
