"""Properties of the school calendar (school days) and of national identity numbers."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kontaktbok.schools import selectors, services
from kontaktbok.schools.identity import is_valid_nin, make_test_nin, nin_digest
from kontaktbok.schools.models import School, SchoolYear, StaffRole
from tests import factories

DAY = dt.timedelta(days=1)
DB_PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PURE_PROPERTY = settings(max_examples=200, deadline=None, database=None)


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone when it ends so the next example starts clean."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- school days ------------------------------------------------------------------------


@pytest.fixture
def school(db) -> School:
    """One school per test, shared by its examples; each example's year is rolled back."""
    return factories.school()


@pytest.fixture
def admin(school):
    return factories.staff(school, StaffRole.Role.SCHOOL_ADMIN)


@st.composite
def calendars(draw: st.DrawFn) -> tuple[dt.date, dt.date, list[tuple[dt.date, dt.date]]]:
    """A school year (first and last day) with up to four holidays inside it."""
    starts_on = draw(st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)))
    ends_on = starts_on + draw(st.integers(1, 330)) * DAY
    holidays = []
    for _ in range(draw(st.integers(0, 4))):
        first = draw(st.dates(starts_on, ends_on))
        holidays.append((first, draw(st.dates(first, min(ends_on, first + 20 * DAY)))))
    return starts_on, ends_on, holidays


@st.composite
def calendars_and_ranges(draw: st.DrawFn):
    """A calendar and a period that may start or end outside the school year."""
    calendar = draw(calendars())
    starts_on, ends_on, _ = calendar
    around = st.dates(starts_on - 30 * DAY, ends_on + 30 * DAY)
    return calendar, draw(around), draw(around)


def make_year(school: School, calendar) -> SchoolYear:
    starts_on, ends_on, holidays = calendar
    return services.school_year_create(
        actor=None,
        school=school,
        name="Skuleår",
        starts_on=starts_on,
        ends_on=ends_on,
        holidays=[(f"Fri {n}", first, last) for n, (first, last) in enumerate(holidays)],
    )


def in_a_holiday(day: dt.date, holidays: list[tuple[dt.date, dt.date]]) -> bool:
    return any(first <= day <= last for first, last in holidays)


def days_between(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += DAY


@DB_PROPERTY
@given(calendars_and_ranges())
def test_school_days_are_the_weekdays_of_the_year_outside_the_holidays(school, case):
    (starts_on, ends_on, holidays), start, end = case
    with rolled_back():
        days = selectors.school_days(make_year(school, case[0]), start, end)
    for day in days:
        assert start <= day <= end
        assert starts_on <= day <= ends_on
        assert day.weekday() < 5, "no school on Saturday or Sunday"
        assert not in_a_holiday(day, holidays)
    assert days == sorted(set(days)), "each day once, in order"
    missed = [
        day
        for day in days_between(max(start, starts_on), min(end, ends_on))
        if day.weekday() < 5 and not in_a_holiday(day, holidays) and day not in days
    ]
    assert missed == [], "every weekday of the year outside the holidays is a school day"


@DB_PROPERTY
@given(calendars_and_ranges(), st.floats(0, 1))
def test_a_period_split_in_two_has_the_days_of_both_halves(school, case, where):
    calendar, start, end = case
    start, end = min(start, end), max(start, end)
    pivot = start + int((end - start).days * where) * DAY
    with rolled_back():
        year = make_year(school, calendar)
        whole = selectors.school_days(year, start, end)
        halves = selectors.school_days(year, start, pivot) + selectors.school_days(
            year, pivot + DAY, end
        )
    assert halves == whole


@DB_PROPERTY
@given(calendars_and_ranges(), st.data())
def test_a_new_holiday_only_takes_school_days_away(school, admin, case, data):
    calendar, start, end = case
    starts_on, ends_on, _ = calendar
    first = data.draw(st.dates(starts_on, ends_on), label="holiday from")
    last = data.draw(st.dates(first, ends_on), label="holiday to")
    with rolled_back():
        year = make_year(school, calendar)
        before = selectors.school_days(year, start, end)
        services.holiday_add(
            actor=admin, school_year=year, name="Planleggingsdag", starts_on=first, ends_on=last
        )
        after = selectors.school_days(SchoolYear.objects.get(pk=year.pk), start, end)
    assert after == [day for day in before if not first <= day <= last]


@DB_PROPERTY
@given(calendars(), st.data())
def test_a_day_is_a_school_day_exactly_when_the_year_counts_it(school, calendar, data):
    starts_on, ends_on, _ = calendar
    day = data.draw(st.dates(starts_on - 60 * DAY, ends_on + 60 * DAY), label="day")
    with rolled_back():
        year = make_year(school, calendar)
        all_days = selectors.school_days(year, starts_on, ends_on)
        # A fresh school object: the calendar is read once per object.
        found = selectors.school_year_if_school_day(School.objects.get(pk=school.pk), day)
    assert (found == year) == (day in all_days)
    assert found is None or found == year


# --- national identity numbers ----------------------------------------------------------

birth_dates = st.text("0123456789", min_size=6, max_size=6)
individuals = st.integers(0, 999)


valid_nins = st.builds(make_test_nin, birth_dates, individuals).filter(bool)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@PURE_PROPERTY
@given(birth_dates, individuals)
def test_every_made_test_number_is_valid_and_keeps_its_first_nine_digits(birth, individual):
    nin = make_test_nin(birth, individual)
    if nin is not None:
        assert is_valid_nin(nin)
        assert nin[:9] == f"{birth}{individual:03d}"


@PURE_PROPERTY
@given(birth_dates, individuals)
def test_the_control_digits_are_determined_by_the_first_nine(birth, individual):
    base = f"{birth}{individual:03d}"
    completions = [f"{base}{cd:02d}" for cd in range(100) if is_valid_nin(f"{base}{cd:02d}")]
    made = make_test_nin(birth, individual)
    assert completions == ([made] if made else [])


@PURE_PROPERTY
@given(valid_nins, st.integers(0, 10), st.integers(1, 9))
def test_a_single_wrong_digit_is_caught(nin, position, change):
    wrong = str((int(nin[position]) + change) % 10)
    assert not is_valid_nin(nin[:position] + wrong + nin[position + 1 :])


def not_eleven_ascii_digits(text: str) -> bool:
    return not (len(text) == 11 and text.isascii() and text.isdigit())


@PURE_PROPERTY
@given(st.text(max_size=14).filter(not_eleven_ascii_digits))
# Digits from other scripts pass str.isdigit(): int("²") raised, and a number typed in
# full-width digits was valid but got another digest than the same number in ASCII.
@example("²" * 11)
@example(fullwidth("01018050079"))
@example("0101805007 ")
@example("+1018050079")
def test_anything_but_eleven_digits_is_invalid_and_never_raises(text):
    assert is_valid_nin(text) is False
    with pytest.raises(ValidationError) as excinfo:
        nin_digest(text)
    assert excinfo.value.code == "nin"


@PURE_PROPERTY
@given(valid_nins, st.lists(st.integers(0, 11), max_size=4))
def test_the_digest_ignores_spaces_and_tells_numbers_apart(nin, cuts):
    spaced = nin
    for cut in sorted(cuts, reverse=True):
        spaced = spaced[:cut] + " " + spaced[cut:]
    digest = nin_digest(nin)
    assert nin_digest(spaced) == digest
    assert len(digest) == 64 and nin not in digest
    other = make_test_nin(nin[:6], (int(nin[6:9]) + 1) % 1000)
    if other is not None:
        assert nin_digest(other) != digest
