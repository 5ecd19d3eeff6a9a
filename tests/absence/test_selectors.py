"""Absence selectors: the day sheet, need to know, the school's check status, statistics and
a pupil's history, all scoped to the actor."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import Http404

from kontaktbok.absence import selectors, services
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import services as school_services
from tests import factories

OSLO = ZoneInfo("Europe/Oslo")
TODAY = dt.date(2026, 11, 24)  # Tuesday
SCHOOL_DAYS_SO_FAR = 67  # 17 Aug–24 Nov 2026: 72 weekdays, less the autumn holiday week

pytestmark = pytest.mark.django_db


def at(*args: int):
    return time_machine.travel(dt.datetime(*args, tzinfo=OSLO), tick=False)


def sick(world):
    return world.school.absence_types.get(code="sick")


def register(world, day, marks, group=None, lesson=None):
    """Leadership registers on ``day`` itself (weeks back is past the limit today)."""
    with at(day.year, day.month, day.day, 9):
        return _register(world, day, marks, group, lesson)


def _register(world, day, marks, group, lesson):
    return services.attendance_register(
        actor=world.leadership,
        group_id=(group or world.class_a).pk,
        date=day,
        lesson=lesson,
        marks=marks,
    )


def absent(pupil, **extra):
    return services.Mark(pupil_id=pupil.pk, status="absent", **extra)


def plain_teacher(world):
    member = factories.staff_member(world.school)
    school_services.staff_role_grant(actor=None, member=member, role="teacher", group=world.class_a)
    return member.user


# --- the day sheet ----------------------------------------------------------------------


def test_the_day_sheet_explains_each_absence(world):
    on_leave = factories.pupil(world.class_a, "Leave")
    by_staff = factories.pupil(world.class_a, "Staff")
    unexplained = factories.pupil(world.class_a, "Unexplained")
    present = factories.pupil(world.class_a, "Present")
    services.absence_report_create(
        actor=world.guardian_a,
        pupil_id=world.child_a.pk,
        start_date=TODAY,
        end_date=TODAY,
        absence_type=sick(world),
        comment="Feber",
    )
    services.leave_days_record(
        actor=world.leadership,
        pupil=on_leave,
        start_date=TODAY,
        end_date=TODAY,
        reference="leave-1",
    )
    register(
        world,
        TODAY,
        [
            absent(world.child_a),
            absent(on_leave),
            absent(by_staff, staff_reason="At the dentist with the school nurse"),
            absent(unexplained),
            services.Mark(pupil_id=present.pk, status="present"),
            services.Mark(pupil_id=world.child_b.pk, status="late", late_minutes=5),
        ],
    )
    group = selectors.staff_group(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    sheet = selectors.day_sheet(actor=world.contact_teacher_a, group=group, date=TODAY)
    explained = {row.pupil.pk: row.explanation for row in sheet.rows}
    assert explained == {
        world.child_a.pk: "reported",
        on_leave.pk: "leave",
        by_staff.pk: "staff",
        unexplained.pk: "unexplained",
        present.pk: "",
        world.child_b.pk: "unexplained",  # late without a reason
    }
    assert sheet.registered is True
    assert sheet.check is None
    assert sheet.counts == {
        "reported": 1,
        "absent": 4,
        "leave": 1,
        "unexplained": 2,
        "late": 1,
        "conflicts": 0,
    }


def test_a_report_shows_before_registration_and_a_withdrawn_one_does_not(world):
    created = services.absence_report_create(
        actor=world.guardian_a,
        pupil_id=world.child_a.pk,
        start_date=TODAY,
        end_date=TODAY,
        absence_type=sick(world),
    )
    sheet = selectors.day_sheet(actor=world.contact_teacher_a, group=world.class_a, date=TODAY)
    assert sheet.registered is False
    row = next(r for r in sheet.rows if r.pupil == world.child_a)
    assert row.report == created
    assert row.explanation == ""  # not registered absent (yet)
    services.absence_report_withdraw(actor=world.guardian_a, report_id=created.pk)
    sheet = selectors.day_sheet(actor=world.contact_teacher_a, group=world.class_a, date=TODAY)
    assert all(r.report is None for r in sheet.rows)


def test_the_day_sheet_shows_the_check(world):
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    sheet = selectors.day_sheet(actor=world.office, group=world.class_a, date=TODAY)
    assert sheet.check is not None
    assert sheet.check.checked_by == world.contact_teacher_a


@pytest.mark.parametrize(
    ("actor", "details"),
    [
        ("contact_teacher_a", True),
        ("office", True),
        ("leadership", True),
        ("plain_teacher", False),
    ],
)
def test_type_and_comment_only_for_those_who_need_to_know(world, actor, details):
    user = plain_teacher(world) if actor == "plain_teacher" else getattr(world, actor)
    group = selectors.staff_group(actor=user, group_id=world.class_a.pk)
    sheet = selectors.day_sheet(actor=user, group=group, date=TODAY)
    assert sheet.rows
    assert {row.show_details for row in sheet.rows} == {details}


def test_the_class_team_sees_details(world):
    member = factories.staff_member(world.school)
    school_services.staff_role_grant(
        actor=None, member=member, role="class_team", group=world.class_a
    )
    sheet = selectors.day_sheet(actor=member.user, group=world.class_a, date=TODAY)
    assert all(row.show_details for row in sheet.rows)


def test_the_day_sheet_query_count_does_not_grow_with_the_class(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        user = world.contact_teacher_a
        with CaptureQueriesContext(connection) as queries:
            selectors.day_sheet(actor=user, group=world.class_a, date=TODAY)
        return len(queries)

    count()  # the actor's roles are read once and kept
    small = count()
    for _ in range(20):
        pupil = factories.pupil(world.class_a)
        register(world, TODAY, [absent(pupil)])
    assert count() == small


# --- the school's check status ----------------------------------------------------------


def test_kontor_sees_which_classes_have_checked_before_the_deadline(world):
    with at(2026, 11, 24, 8, 30):
        services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
        register(world, TODAY, [absent(world.child_a2)], group=world.class_b)
    with at(2026, 11, 24, 8, 59, 59):
        school, rows, past = selectors.school_check_status(
            actor=world.office, school_id=world.school.pk
        )
    assert school == world.school
    assert past is False
    status = {row.group: row for row in rows}
    assert set(status) == {world.class_a, world.class_b}
    assert status[world.class_a].check.checked_by == world.contact_teacher_a
    assert status[world.class_b].check is None
    assert status[world.class_b].registered is True
    assert status[world.class_a].registered is False
    assert not any(row.late for row in rows)


def test_after_the_deadline_unchecked_classes_are_late(world):
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    with at(2026, 11, 24, 9, 0, 0):
        _, rows, past = selectors.school_check_status(
            actor=world.leadership, school_id=world.school.pk
        )
    assert past is True
    assert {row.group: row.late for row in rows} == {world.class_a: False, world.class_b: True}


def test_a_past_day_is_past_the_deadline(world):
    _, rows, past = selectors.school_check_status(
        actor=world.office, school_id=world.school.pk, date=dt.date(2026, 11, 23)
    )
    assert past is True
    assert all(row.late for row in rows)


@pytest.mark.parametrize("actor", ["contact_teacher_a", "guardian_a", "school_admin"])
def test_the_school_status_is_for_kontor_and_leiing(world, actor):
    with pytest.raises(Http404):
        selectors.school_check_status(actor=getattr(world, actor), school_id=world.school.pk)


def test_the_school_status_of_another_school_is_404(world):
    with pytest.raises(Http404):
        selectors.school_check_status(actor=world.other_leadership, school_id=world.school.pk)


# --- statistics -------------------------------------------------------------------------


def test_group_statistics_with_days_hours_share_and_concern(world):
    weekday_child, share_child, calm_child = (
        world.child_a,
        world.child_b,
        factories.pupil(world.class_a, "Calm"),
    )
    # Three Tuesdays in six weeks (13 Oct is the first day of the six), one in the last four.
    for day in (dt.date(2026, 10, 13), dt.date(2026, 10, 20), dt.date(2026, 11, 10)):
        register(world, day, [absent(weekday_child)])
    # Two days of the last four weeks' 20 school days: 10 %, the school's threshold.
    for day in (dt.date(2026, 11, 16), dt.date(2026, 11, 18)):
        register(world, day, [absent(share_child)])
    register(world, dt.date(2026, 11, 19), [absent(calm_child)])
    # Hours: two lessons absent (45 minutes each) and 30 minutes late.
    register(world, dt.date(2026, 11, 20), [absent(calm_child)], lesson=1)
    register(world, dt.date(2026, 11, 20), [absent(calm_child)], lesson=2)
    register(
        world,
        dt.date(2026, 11, 23),
        [services.Mark(pupil_id=calm_child.pk, status="late", late_minutes=30)],
    )
    stats = {
        s.pupil: s
        for s in selectors.group_statistics(actor=world.contact_teacher_a, group=world.class_a)
    }
    weekday = stats[weekday_child]
    assert weekday.absent_days == 3
    assert weekday.share == round(300 / SCHOOL_DAYS_SO_FAR, 1)
    assert weekday.concerning is True
    assert weekday.reasons == ["weekday"]
    assert weekday.days == [dt.date(2026, 10, 13), dt.date(2026, 10, 20), dt.date(2026, 11, 10)]
    share = stats[share_child]
    assert (share.absent_days, share.concerning, share.reasons) == (2, True, ["share"])
    assert share.days == [dt.date(2026, 11, 16), dt.date(2026, 11, 18)]
    calm = stats[calm_child]
    assert (calm.absent_days, calm.absent_hours, calm.concerning) == (1, 2.0, False)
    assert calm.reasons == []
    entry = AuditEntry.objects.get(action="absence.statistics.read")
    assert entry.actor == world.contact_teacher_a
    assert entry.object_id == str(world.class_a.pk)


def test_a_weekday_outside_the_six_weeks_is_not_concerning(world):
    for day in (dt.date(2026, 10, 6), dt.date(2026, 10, 20), dt.date(2026, 11, 10)):
        register(world, day, [absent(world.child_a)])
    stats = selectors.group_statistics(actor=world.leadership, group=world.class_a)
    mine = next(s for s in stats if s.pupil == world.child_a)
    assert (mine.absent_days, mine.concerning) == (3, False)


def test_the_share_threshold_is_a_school_setting(world):
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"concern_percent": 5}
    )
    register(world, dt.date(2026, 11, 16), [absent(world.child_a)])
    group = selectors.staff_group(actor=world.leadership, group_id=world.class_a.pk)
    stats = selectors.group_statistics(actor=world.leadership, group=group)
    assert next(s for s in stats if s.pupil == world.child_a).reasons == ["share"]


# --- a pupil's history ------------------------------------------------------------------


def test_absence_history_with_totals_and_an_audit_entry(world):
    created = services.absence_report_create(
        actor=world.guardian_a,
        pupil_id=world.child_a.pk,
        start_date=TODAY,
        end_date=TODAY,
        absence_type=sick(world),
    )
    register(world, dt.date(2026, 11, 2), [absent(world.child_a)])
    register(world, TODAY, [absent(world.child_a)])
    register(world, dt.date(2026, 11, 3), [absent(world.child_a)], lesson=3)
    register(world, dt.date(2026, 11, 3), [absent(world.child_b)])  # another pupil
    history = selectors.absence_history(
        actor=world.contact_teacher_a, pupil=world.child_a, role="contact_teacher"
    )
    assert history.reports == [created]
    assert history.absent_days == 2
    assert history.absent_hours == 0.8  # one lesson of 45 minutes
    assert history.school_days == SCHOOL_DAYS_SO_FAR
    assert history.share == round(200 / SCHOOL_DAYS_SO_FAR, 1)
    assert [m.date for m in history.absences] == [
        TODAY,
        dt.date(2026, 11, 3),
        dt.date(2026, 11, 2),
    ]
    entry = AuditEntry.objects.get(action="absence.history.read")
    assert (entry.actor, entry.role, entry.object_id) == (
        world.contact_teacher_a,
        "contact_teacher",
        str(world.child_a.pk),
    )


# --- scoping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actor", ["guardian_b", "guardian_without_responsibility", "contact_teacher_a", "office"]
)
def test_guardian_child_is_the_actors_own_child(world, actor):
    with pytest.raises(Http404):
        selectors.guardian_child(actor=getattr(world, actor), pupil_id=world.child_a.pk)
    assert selectors.guardian_child(actor=world.guardian_a, pupil_id=world.child_a.pk)


@pytest.mark.parametrize("actor", ["other_leadership", "contact_teacher_b", "guardian_a"])
def test_staff_group_is_scoped(world, actor):
    with pytest.raises(Http404):
        selectors.staff_group(actor=getattr(world, actor), group_id=world.class_a.pk)


def test_staff_group_of_another_school_is_404_even_for_its_leaders(world):
    other_group = world.other_child.groups.get()
    assert selectors.staff_group(actor=world.other_leadership, group_id=other_group.pk)
    with pytest.raises(Http404):
        selectors.staff_group(actor=world.leadership, group_id=other_group.pk)


def test_a_day_absent_in_every_lesson_counts_as_a_day(world):
    from kontaktbok.absence.models import AttendanceMark
    from kontaktbok.absence.selectors import days_and_hours
    from kontaktbok.core import clock

    school = world.school
    day = dt.date(2026, 11, 23)
    marks = [
        AttendanceMark(
            pupil=world.child_a,
            group=world.class_a,
            date=day,
            lesson=n,
            status="absent",
            registered_at=clock.now(),
        )
        for n in range(1, school.lessons_per_day + 1)
    ]
    marks.append(
        AttendanceMark(
            pupil=world.child_a,
            group=world.class_a,
            date=dt.date(2026, 11, 24),
            lesson=2,
            status="absent",
            registered_at=clock.now(),
        )
    )
    days, hours = days_and_hours(marks, school)
    assert days == [day]
    assert hours == 0.8  # one lesson of 45 minutes, not the six of the whole day
