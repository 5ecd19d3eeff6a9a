"""Which backups are kept: the newest of each of the last 7 days, 4 weeks and 12 months."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kontaktbok.backups.retention import Keep, to_keep
from kontaktbok.backups.storage import name_for, taken_at
from kontaktbok.core.clock import SCHOOL_TZ


def nightly(last: dt.date, days: int) -> list[tuple[str, dt.datetime]]:
    """One backup at 02:00 school-local every night for ``days`` nights up to ``last``."""
    moments = [
        dt.datetime.combine(last - dt.timedelta(days=n), dt.time(2), tzinfo=SCHOOL_TZ)
        for n in range(days)
    ]
    return [(name_for(moment), moment) for moment in moments]


def test_a_year_of_nightly_backups_keeps_7_days_4_weeks_and_12_months():
    kept = to_keep(nightly(dt.date(2026, 12, 3), 400), Keep())
    days = {taken_at(name).astimezone(SCHOOL_TZ).date() for name in kept}
    daily = {dt.date(2026, 11, 27) + dt.timedelta(days=n) for n in range(7)}
    # Thursday 3 December: the newest of the three weeks before are their Sundays (the
    # week before this one is already among the days).
    weekly = {dt.date(2026, 11, 22), dt.date(2026, 11, 15)}
    # The last day of each month before, January to October (November's is among the days).
    monthly = {dt.date(2026, month, 1) - dt.timedelta(days=1) for month in range(2, 12)}
    assert days == daily | weekly | monthly
    assert len(kept) == 7 + 2 + 10


def test_a_name_says_when_the_backup_was_taken():
    moment = dt.datetime(2026, 12, 3, 2, 0, tzinfo=SCHOOL_TZ)
    assert name_for(moment) == "kontaktbok-20261203T010000Z.age"
    assert taken_at(name_for(moment)) == moment
    assert taken_at("notes.txt") is None
    assert taken_at(".kontaktbok-20261203T010000Z.age.partial") is None


moments = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)
)


@given(
    st.lists(moments, min_size=1, max_size=60, unique=True),
    st.integers(1, 10),
    st.integers(0, 6),
    st.integers(0, 14),
)
def test_the_newest_is_always_kept_never_more_than_asked_and_pruning_twice_changes_nothing(
    taken, daily, weekly, monthly
):
    keep = Keep(daily, weekly, monthly)
    backups = [(name_for(moment), moment) for moment in taken]
    kept = to_keep(backups, keep)
    assert name_for(max(taken)) in kept
    assert len(kept) <= daily + weekly + monthly
    again = to_keep([item for item in backups if item[0] in kept], keep)
    assert again == kept


def test_the_setting_is_read_as_daily_weekly_monthly():
    assert Keep.parse("7,4,12") == Keep(7, 4, 12)
    assert Keep.parse(" 3, 0, 0 ") == Keep(3, 0, 0)
