"""Properties of the sending window (quiet hours, staff working hours, the digest) and of
phone numbers for SMS.

Aware datetimes with the same tzinfo compare and subtract by wall clock, ignoring the
offset; every comparison of moments here is made in UTC.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from kontaktbok.notifications import timing
from kontaktbok.notifications.channels import PermanentError, normalise_phone

OSLO = ZoneInfo("Europe/Oslo")
PROPERTY = settings(max_examples=200, deadline=None, database=None)
HOUR = dt.timedelta(hours=1)

# The clocks change at 01:00 UTC on the last Sunday of March and of October.
DST_CHANGES = [
    dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC),
    dt.datetime(2027, 3, 28, 1, tzinfo=dt.UTC),
    dt.datetime(2027, 10, 31, 1, tzinfo=dt.UTC),
]


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


@st.composite
def moments(draw: st.DrawFn) -> dt.datetime:
    """Any moment in 2026–2027, often within two days of a change of the clocks; given in
    UTC (as the server's clock) or in Oslo time (as a caller may)."""
    if draw(st.booleans()):
        naive = draw(st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31)))
        moment = naive.replace(tzinfo=dt.UTC)
    else:
        change = draw(st.sampled_from(DST_CHANGES))
        moment = change + dt.timedelta(seconds=draw(st.integers(-2 * 86400, 2 * 86400)))
    return moment.astimezone(OSLO) if draw(st.booleans()) else moment


def outside_the_changing_hour(t: dt.time) -> bool:
    """02:00–03:00 is skipped in March and repeated in October."""
    return not dt.time(2) <= t < dt.time(3)


clock_times = st.times().filter(outside_the_changing_hour)


@st.composite
def windows(draw: st.DrawFn) -> tuple[dt.time, dt.time]:
    """A daily window [start, end), its edges outside the hour the clocks change in."""
    start, end = sorted(draw(st.lists(clock_times, min_size=2, max_size=2, unique=True)))
    return start, end


def inside(moment: dt.datetime, window: tuple[dt.time, dt.time], weekdays_only: bool) -> bool:
    local = moment.astimezone(OSLO)
    if weekdays_only and local.weekday() >= 5:
        return False
    return window[0] <= local.time() < window[1]


def between(start: dt.datetime, end: dt.datetime, millionths: int) -> dt.datetime:
    """A moment in [start, end), ``millionths`` of the way."""
    span = (utc(end) - utc(start)) // dt.timedelta(microseconds=1)
    return utc(start) + dt.timedelta(microseconds=span * millionths // 1_000_000)


fractions = st.integers(0, 999_999)


# --- next_in_window ---------------------------------------------------------------------


@PROPERTY
@given(moments(), windows(), st.booleans(), fractions)
@example(  # Saturday evening: Monday morning
    dt.datetime(2026, 11, 28, 20, tzinfo=dt.UTC), (dt.time(8), dt.time(16)), True, 500_000
)
@example(  # the night the clocks go back
    dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), (dt.time(7), dt.time(21)), False, 900_000
)
def test_the_next_moment_in_the_window_is_the_first_one_not_before(
    moment, window, weekdays_only, where
):
    found = timing.next_in_window(moment, *window, weekdays_only=weekdays_only)
    assert utc(found) >= utc(moment), "never earlier than asked"
    assert inside(found, window, weekdays_only), "always inside the window"
    if inside(moment, window, weekdays_only):
        assert utc(found) == utc(moment), "a moment inside the window stands"
    else:
        assert not inside(between(moment, found, where), window, weekdays_only), (
            "no earlier moment in the window was skipped"
        )
    again = timing.next_in_window(found, *window, weekdays_only=weekdays_only)
    assert utc(again) == utc(found), "idempotent"


@PROPERTY
@given(moments(), windows())
def test_the_window_opens_at_its_start_on_the_school_local_clock(moment, window):
    found = timing.next_in_window(moment, *window).astimezone(OSLO)
    local = moment.astimezone(OSLO)
    if utc(found) != utc(moment):
        assert found.time() == window[0]
        assert found.date() - local.date() in (dt.timedelta(0), dt.timedelta(days=1))


# --- first_allowed: the sending window and staff working hours ---------------------------


@PROPERTY
@given(moments(), st.none() | windows(), fractions)
@example(  # Saturday: hours from 06:30 (before the window opens at 07:00) gave Monday 06:30
    dt.datetime(2026, 11, 28, 10, tzinfo=OSLO), (dt.time(6, 30), dt.time(15)), 500_000
)
def test_a_non_urgent_notification_waits_for_the_window_and_the_working_day(
    moment, working_hours, where
):
    window = timing.sending_window()
    overlap = working_hours is None or (
        max(window[0], working_hours[0]) < min(window[1], working_hours[1])
    )
    assume(overlap)  # hours wholly outside the sending window leave no moment at all

    def allowed(at: dt.datetime) -> bool:
        return inside(at, window, False) and (
            working_hours is None or inside(at, working_hours, True)
        )

    found = timing.first_allowed(moment, working_hours=working_hours)
    assert utc(found) >= utc(moment)
    assert allowed(found), "inside the sending window and, for staff, their working hours"
    if allowed(moment):
        assert utc(found) == utc(moment)
    else:
        assert not allowed(between(moment, found, where)), "the first allowed moment"
    assert utc(timing.first_allowed(found, working_hours=working_hours)) == utc(found)


@PROPERTY
@given(moments())
def test_the_digest_goes_at_the_next_digest_time(moment):
    found = timing.next_digest_time(moment)
    assert utc(found) > utc(moment)
    assert found.astimezone(OSLO).time() == django_settings.NOTIFY_DIGEST_TIME
    assert utc(found) - utc(moment) <= 25 * HOUR, "within a day (a day has 25 hours in October)"


# --- phone numbers for SMS --------------------------------------------------------------

eight_digits = st.text("0123456789", min_size=8, max_size=8).filter(lambda n: n[0] != "0")
separators = st.sampled_from(["", " ", "  ", "-", ".", "\u00a0"])


@st.composite
def written_norwegian(draw: st.DrawFn) -> tuple[str, str]:
    """An eight-digit Norwegian number as people write it, and the number itself."""
    number = draw(eight_digits)
    prefix = draw(st.sampled_from(["", "+47", "0047", "(+47)", "+47 ", "0047 ", "(0047) "]))
    groups = draw(st.sampled_from([(8,), (3, 2, 3), (2, 2, 2, 2), (4, 4)]))
    sep = draw(separators)
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    return f"{prefix}{sep.join(parts)}", number


@PROPERTY
@given(written_norwegian())
def test_a_norwegian_number_however_written_becomes_plus_47_and_the_eight_digits(case):
    written, number = case
    assert normalise_phone(written) == f"+47{number}"


E164 = r"\+[0-9]{8,15}"


@PROPERTY
@given(st.text(st.sampled_from("0123456789+ -.()\u00a0x"), max_size=20) | st.text(max_size=20))
# "00" and six digits passed as eight digits, then lost the "00": "+123456", which the
# function itself refused; and "+00..." was kept as it came.
@example("00123456")
@example("+004712345678")
@example("00 47 1")
def test_a_number_is_normalised_to_e164_once_and_for_all_or_refused(text):
    try:
        normalised = normalise_phone(text)
    except PermanentError as refused:
        assert str(refused) == "invalid phone number"
        return
    assert re.fullmatch(E164, normalised), normalised
    assert normalised[1] != "0", "a country code never starts with 0"
    assert normalise_phone(normalised) == normalised, "idempotent"
