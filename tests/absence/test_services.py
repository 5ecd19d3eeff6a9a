"""Absence services: reports (window, deadline, idempotency), attendance, the daily check."""

import datetime as dt
from functools import partial
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from kontaktbok.absence import services
from kontaktbok.absence.models import AbsenceReport, AttendanceMark, DailyCheck, LeaveExplanation
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import access
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import AbsenceType
from tests import factories
from tests.query_counts import queries_of

OSLO = ZoneInfo("Europe/Oslo")
TODAY = dt.date(2026, 11, 24)  # Tuesday; the autouse fixture's day
TOMORROW = dt.date(2026, 11, 25)
MONDAY = dt.date(2026, 11, 23)

pytestmark = pytest.mark.django_db


def at(*args: int):
    """Freeze the clock at a moment in Oslo (overrides the autouse fixture)."""
    return time_machine.travel(dt.datetime(*args, tzinfo=OSLO), tick=False)


def sick(school) -> AbsenceType:
    return school.absence_types.get(code="sick")


def report(world, day: dt.date = TODAY, end: dt.date | None = None, **extra):
    extra.setdefault("absence_type", sick(world.school))
    return services.absence_report_create(
        actor=extra.pop("actor", world.guardian_a),
        pupil_id=extra.pop("pupil_id", world.child_a.pk),
        start_date=day,
        end_date=end or day,
        **extra,
    )


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- creating a report ------------------------------------------------------------------


def test_guardian_reports_absence_with_an_audit_entry(world):
    created = report(world, comment="  Feber  ")
    assert created.pupil == world.child_a
    assert created.school == world.school
    assert created.reported_by == world.guardian_a
    assert created.status == AbsenceReport.Status.ACTIVE
    assert created.comment == "Feber"
    assert created.late is False  # 07:45, before 08:30
    entry = AuditEntry.objects.get(action="absence.report.created")
    assert entry.actor == world.guardian_a
    assert entry.role == "guardian"
    assert entry.object_id == str(created.pk)
    assert entry.school_id == world.school.pk
    assert entry.detail == {"days": 1, "late": False}


def test_hours_are_kept_only_for_part_of_a_day(world):
    part = report(world, whole_day=False, start_time=dt.time(10), end_time=dt.time(12))
    assert (part.start_time, part.end_time) == (dt.time(10), dt.time(12))
    whole = report(world, TOMORROW, start_time=dt.time(10), end_time=dt.time(12))
    assert (whole.start_time, whole.end_time) == (None, None)


@pytest.mark.usefixtures("english")
def test_the_same_time_is_reported_once(world):
    """Three identical reports for one day were all accepted: the second is refused, and so
    is one that overlaps it; hours of the same day that do not meet are two reports."""
    first = report(world, TODAY, TOMORROW)
    for day, end in ((TODAY, TODAY), (TOMORROW, TOMORROW + dt.timedelta(days=1))):
        with pytest.raises(ValidationError, match="already reported") as refused:
            report(world, day, end)
        assert "start_date" in errors_of(refused)
    with pytest.raises(ValidationError, match="already reported"):
        report(world, TODAY, whole_day=False, start_time=dt.time(9), end_time=dt.time(10))
    later = TOMORROW + dt.timedelta(days=1)
    morning = report(world, later, whole_day=False, start_time=dt.time(8), end_time=dt.time(10))
    report(world, later, whole_day=False, start_time=dt.time(10), end_time=dt.time(12))
    with pytest.raises(ValidationError, match="already reported"):
        report(world, later, whole_day=False, start_time=dt.time(9), end_time=dt.time(11))
    with pytest.raises(ValidationError, match="already reported"):  # an edit, too
        services.absence_report_update(
            actor=world.guardian_a,
            report_id=morning.pk,
            start_date=TODAY,
            end_date=TODAY,
            absence_type=sick(world.school),
        )
    services.absence_report_withdraw(actor=world.guardian_a, report_id=first.pk)
    assert report(world, TODAY).pk != first.pk  # a withdrawn report leaves the time free
    assert AbsenceReport.objects.filter(status="active").count() == 3


def test_part_of_a_day_needs_ordered_times(world):
    with pytest.raises(ValidationError) as missing:
        report(world, whole_day=False, start_time=dt.time(10))
    assert "start_time" in errors_of(missing)
    with pytest.raises(ValidationError) as reversed_:
        report(world, whole_day=False, start_time=dt.time(12), end_time=dt.time(10))
    assert "end_time" in errors_of(reversed_)


def test_a_report_may_go_back_to_monday_this_week_and_is_late(world):
    back = report(world, MONDAY)
    assert back.late is True
    with pytest.raises(ValidationError) as excinfo:
        report(world, MONDAY - dt.timedelta(days=1), MONDAY)
    assert "start_date" in errors_of(excinfo)


def test_a_report_may_cover_the_schools_number_of_school_days_ahead(world):
    # Default 10 school days, today counted: Tue 24 Nov … Mon 7 Dec.
    assert services.report_window(world.child_a).latest == dt.date(2026, 12, 7)
    assert report(world, TODAY, dt.date(2026, 12, 7)).end_date == dt.date(2026, 12, 7)
    with pytest.raises(ValidationError) as excinfo:
        report(world, TODAY, dt.date(2026, 12, 8))
    assert "end_date" in errors_of(excinfo)


def test_the_school_sets_how_far_ahead(world):
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"report_max_school_days": 3}
    )
    report(world, dt.date(2026, 11, 26))  # Tue, Wed, Thu
    with pytest.raises(ValidationError):
        report(world, dt.date(2026, 11, 27))


def test_the_days_ahead_skip_weekends_and_holidays(world):
    # Tue 22 Sep 2026: 22–25 Sep, then the autumn holiday 28 Sep–2 Oct, then 5–12 Oct.
    with at(2026, 9, 22, 7, 0):
        window = services.report_window(world.child_a)
        assert window.earliest == dt.date(2026, 9, 21)
        assert window.latest == dt.date(2026, 10, 12)
        assert report(world, dt.date(2026, 10, 12)).late is False
        with pytest.raises(ValidationError):
            report(world, dt.date(2026, 10, 13))


def test_a_period_with_no_school_days_is_refused(world):
    with pytest.raises(ValidationError) as weekend:
        report(world, dt.date(2026, 11, 28), dt.date(2026, 11, 29))
    assert "start_date" in errors_of(weekend)
    with at(2026, 9, 25, 7, 0), pytest.raises(ValidationError) as holiday:
        report(world, dt.date(2026, 9, 28), dt.date(2026, 10, 2))
    assert "start_date" in errors_of(holiday)
    assert not AbsenceReport.objects.exists()


def test_the_first_school_day_bounds_the_window(world):
    # Wed 19 Aug: Monday 17 Aug is the first school day, so Sunday 16 is out of the year.
    with at(2026, 8, 19, 7, 0):
        assert services.report_window(world.child_a).earliest == dt.date(2026, 8, 17)


@pytest.mark.parametrize(
    ("moment", "late"),
    [
        ((2026, 11, 24, 8, 29, 59), False),
        ((2026, 11, 24, 8, 30, 0), True),
        ((2026, 11, 24, 23, 59, 59), True),
        # The Monday after the clocks go back (Sunday 25 Oct 2026, CEST → CET).
        ((2026, 10, 26, 8, 29, 0), False),
        ((2026, 10, 26, 8, 29, 59), False),
        ((2026, 10, 26, 8, 30, 0), True),
        # The Monday after the clocks go forward (Sunday 28 Mar 2027, CET → CEST).
        ((2027, 3, 29, 8, 29, 59), False),
        ((2027, 3, 29, 8, 30, 0), True),
    ],
)
def test_the_deadline_applies_in_school_local_time(world, moment, late):
    with at(*moment):
        today = dt.date(*moment[:3])
        assert report(world, today).late is late


def test_a_past_day_this_week_is_late_even_before_the_deadline(world):
    with at(2026, 11, 26, 7, 0):  # Thursday morning
        assert report(world, dt.date(2026, 11, 24)).late is True
        assert report(world, dt.date(2026, 11, 27)).late is False


def test_the_deadline_is_a_school_setting(world):
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"report_deadline": dt.time(8, 0)}
    )
    with at(2026, 11, 24, 8, 0, 0):
        assert report(world).late is True


def test_a_type_from_another_school_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        report(world, absence_type=sick(world.other_school))
    assert "absence_type" in errors_of(excinfo)
    assert not AbsenceReport.objects.exists()


def test_an_inactive_type_is_refused(world):
    school_services.absence_type_save(
        actor=world.school_admin,
        school=world.school,
        absence_type=sick(world.school),
        data={"active": False},
    )
    with pytest.raises(ValidationError) as excinfo:
        report(world, absence_type=AbsenceType.objects.get(pk=sick(world.school).pk))
    assert "absence_type" in errors_of(excinfo)


def test_end_before_start_is_refused_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as excinfo:
        report(world, dt.date(2026, 11, 26), dt.date(2026, 11, 25))
    assert "end_date" in errors_of(excinfo)
    assert not AbsenceReport.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="absence.").exists()


@pytest.mark.parametrize(
    "actor", ["guardian_b", "guardian_without_responsibility", "contact_teacher_a", "office"]
)
def test_only_a_guardian_with_responsibility_may_report(world, actor):
    with pytest.raises(PermissionDenied):
        report(world, actor=getattr(world, actor))
    assert not AbsenceReport.objects.exists()


def test_a_restricted_guardian_cannot_report_for_a_protected_child(world):
    with pytest.raises(PermissionDenied):
        report(world, actor=world.restricted_guardian, pupil_id=world.protected_child.pk)


def test_the_same_idempotency_key_gives_one_report(world):
    first = report(world, idempotency_key="tap-1")
    second = report(world, idempotency_key="tap-1")
    assert first.pk == second.pk
    assert AbsenceReport.objects.count() == 1
    assert AuditEntry.objects.filter(action="absence.report.created").count() == 1
    assert report(world, TOMORROW, idempotency_key="tap-2").pk != first.pk


def test_idempotency_keys_are_per_user(world):
    school_services.guardianship_set(actor=None, guardian=world.guardian_b, pupil=world.child_a)
    mine = report(world, idempotency_key="same")
    theirs = report(world, TOMORROW, actor=world.guardian_b, idempotency_key="same")
    assert mine.pk != theirs.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_report(world):
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    results: list = []

    def tap():
        try:
            barrier.wait(timeout=5)
            results.append(report(world, idempotency_key="both").pk)
        except Exception as error:  # pragma: no cover - reported below
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert results[0] == results[1], results
    assert AbsenceReport.objects.filter(idempotency_key="both").count() == 1


# --- changing and withdrawing -----------------------------------------------------------


def update(world, created, actor=None, **changes):
    values = {
        "start_date": created.start_date,
        "end_date": created.end_date,
        "absence_type": created.absence_type,
        **changes,
    }
    return services.absence_report_update(
        actor=actor or world.guardian_a, report_id=created.pk, **values
    )


def test_a_report_can_be_changed_with_an_audit_entry(world):
    created = report(world, dt.date(2026, 11, 25))
    doctor = world.school.absence_types.get(code="doctor")
    changed = update(
        world,
        created,
        end_date=dt.date(2026, 11, 26),
        absence_type=doctor,
        whole_day=False,
        start_time=dt.time(9),
        end_time=dt.time(11),
        comment="Kontroll",
    )
    changed.refresh_from_db()
    assert (changed.end_date, changed.absence_type, changed.comment) == (
        dt.date(2026, 11, 26),
        doctor,
        "Kontroll",
    )
    assert changed.start_time == dt.time(9)
    assert AuditEntry.objects.filter(
        action="absence.report.updated", object_id=str(created.pk)
    ).exists()


def test_a_change_is_validated_like_a_new_report(world):
    created = report(world)
    with pytest.raises(ValidationError):
        update(world, created, end_date=dt.date(2026, 11, 20))
    created.refresh_from_db()
    assert created.end_date == TODAY


def test_moving_a_report_to_a_past_day_marks_it_late(world):
    created = report(world, dt.date(2026, 11, 25))
    assert created.late is False
    assert update(world, created, start_date=MONDAY).late is True


def test_another_family_cannot_change_or_withdraw(world):
    created = report(world)
    with pytest.raises(PermissionDenied):
        services.absence_report_update(
            actor=world.guardian_b,
            report_id=created.pk,
            start_date=TODAY,
            end_date=TODAY,
            absence_type=sick(world.school),
        )
    with pytest.raises(PermissionDenied):
        services.absence_report_withdraw(actor=world.guardian_b, report_id=created.pk)
    with pytest.raises(PermissionDenied):
        services.absence_report_withdraw(actor=world.contact_teacher_a, report_id=created.pk)


def test_the_other_guardian_may_withdraw(world):
    school_services.guardianship_set(actor=None, guardian=world.guardian_b, pupil=world.child_a)
    created = report(world)
    withdrawn = services.absence_report_withdraw(actor=world.guardian_b, report_id=created.pk)
    assert withdrawn.status == AbsenceReport.Status.WITHDRAWN


def test_withdraw_with_an_audit_entry(world):
    created = report(world)
    services.absence_report_withdraw(actor=world.guardian_a, report_id=created.pk)
    created.refresh_from_db()
    assert created.status == AbsenceReport.Status.WITHDRAWN
    entry = AuditEntry.objects.get(action="absence.report.withdrawn")
    assert entry.object_id == str(created.pk)
    assert entry.actor == world.guardian_a
    with pytest.raises(ValidationError):
        update(world, created, comment="too late")


def test_after_the_class_team_checked_the_day_changes_go_as_a_message(world):
    created = report(world)
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    with pytest.raises(ValidationError) as excinfo:
        update(world, created, comment="x")
    assert excinfo.value.code == "checked"
    with pytest.raises(ValidationError):
        services.absence_report_withdraw(actor=world.guardian_a, report_id=created.pk)
    created.refresh_from_db()
    assert created.status == AbsenceReport.Status.ACTIVE


def test_a_check_of_another_day_does_not_block(world):
    """Today's check locks today's reports only: tomorrow's can still be changed and
    withdrawn."""
    created = report(world, dt.date(2026, 11, 25))
    check = services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    assert check.date == TODAY
    update(world, created, comment="Tannlege")
    created.refresh_from_db()
    assert created.comment == "Tannlege"
    services.absence_report_withdraw(actor=world.guardian_a, report_id=created.pk)
    created.refresh_from_db()
    assert created.status == AbsenceReport.Status.WITHDRAWN


# --- attendance -------------------------------------------------------------------------


def mark(pupil, status="absent", **extra):
    return services.Mark(pupil_id=pupil.pk, status=status, **extra)


def register(world, marks, actor=None, day=TODAY, **extra):
    return services.attendance_register(
        actor=actor or world.contact_teacher_a,
        group_id=world.class_a.pk,
        date=day,
        marks=marks,
        **extra,
    )


def test_attendance_is_registered_and_audited(world):
    saved = register(
        world, [mark(world.child_a), mark(world.child_b, "late", late_minutes=10)], lesson=None
    )
    assert {(m.pupil_id, m.status, m.late_minutes) for m in saved} == {
        (world.child_a.pk, "absent", None),
        (world.child_b.pk, "late", 10),
    }
    entry = AuditEntry.objects.get(action="absence.attendance.registered")
    assert entry.detail == {"date": "2026-11-24", "lesson": None, "marks": 2, "absent": 2}
    assert entry.object_id == str(world.class_a.pk)


def test_registering_again_replaces_the_marks(world):
    register(world, [mark(world.child_a), mark(world.child_b, staff_reason="Tur")])
    register(world, [mark(world.child_a, "present"), mark(world.child_b, "present")])
    marks = AttendanceMark.objects.filter(group=world.class_a, date=TODAY)
    assert marks.count() == 2
    assert {m.status for m in marks} == {"present"}
    assert {m.staff_reason for m in marks} == {""}


def test_per_lesson_marks_are_separate(world):
    register(world, [mark(world.child_a)], lesson=1)
    register(world, [mark(world.child_a, "present")], lesson=2)
    register(world, [mark(world.child_a)], lesson=1)
    assert AttendanceMark.objects.filter(pupil=world.child_a).count() == 2
    with pytest.raises(ValidationError):
        register(world, [mark(world.child_a)], lesson=world.school.lessons_per_day + 1)


@pytest.mark.parametrize("minutes", [None, 0])
def test_late_needs_minutes(world, minutes):
    with pytest.raises(ValidationError):
        register(world, [mark(world.child_a, "late", late_minutes=minutes)])
    assert not AttendanceMark.objects.exists()


def test_an_unknown_status_is_refused(world):
    with pytest.raises(ValidationError):
        register(world, [mark(world.child_a, "gone")])


def test_a_day_that_has_not_come_is_refused(world):
    with pytest.raises(ValidationError):
        register(world, [mark(world.child_a)], day=TODAY + dt.timedelta(days=1))
    assert not AttendanceMark.objects.exists()


def test_a_pupil_not_in_the_group_is_refused(world):
    with pytest.raises(PermissionDenied):
        register(world, [mark(world.child_a), mark(world.child_a2)])
    assert not AttendanceMark.objects.exists()


@pytest.mark.parametrize(
    "actor", ["contact_teacher_b", "other_leadership", "guardian_a", "school_admin"]
)
def test_only_staff_of_the_group_register(world, actor):
    with pytest.raises(PermissionDenied):
        register(world, [mark(world.child_a)], actor=getattr(world, actor))


def test_a_teacher_kontor_and_leiing_may_register(world):
    teacher = factories.staff(world.school, "teacher", world.class_a)
    for actor in (teacher, world.office, world.leadership):
        register(world, [mark(world.child_a)], actor=actor)
    assert AttendanceMark.objects.get().registered_by == world.leadership


# --- daily check and leave --------------------------------------------------------------


def test_the_daily_check_is_recorded_once(world):
    first = services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 40, tzinfo=OSLO), tick=False):
        again = services.daily_check_mark(actor=world.office, group_id=world.class_a.pk)
    assert again.pk == first.pk
    assert again.checked_by == world.contact_teacher_a
    assert DailyCheck.objects.count() == 1
    entry = AuditEntry.objects.get(action="absence.daily_check.done")
    assert entry.actor == world.contact_teacher_a
    assert entry.detail == {"date": "2026-11-24"}


@pytest.mark.parametrize("actor", ["contact_teacher_b", "other_leadership", "guardian_a"])
def test_only_staff_of_the_group_check(world, actor):
    with pytest.raises(PermissionDenied):
        services.daily_check_mark(actor=getattr(world, actor), group_id=world.class_a.pk)
    assert not DailyCheck.objects.exists()


def test_leave_days_are_recorded_by_reference(world):
    item = services.leave_days_record(
        actor=world.leadership,
        pupil=world.child_a,
        start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2026, 12, 3),
        reference="leave-1",
    )
    again = services.leave_days_record(
        actor=world.leadership,
        pupil=world.child_a,
        start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2026, 12, 4),
        reference="leave-1",
    )
    assert again.pk == item.pk
    assert LeaveExplanation.objects.get().end_date == dt.date(2026, 12, 4)
    entries = AuditEntry.objects.filter(action="absence.leave.recorded")
    assert entries.count() == 2
    assert entries.first().detail == {"reference": "leave-1"}


# --- rules tightened after review -------------------------------------------------------


def test_a_withdrawn_report_cannot_be_withdrawn_again(world):
    created = report(world)
    services.absence_report_withdraw(actor=world.guardian_a, report_id=created.pk)
    with pytest.raises(ValidationError):
        services.absence_report_withdraw(actor=world.guardian_a, report_id=created.pk)
    assert AuditEntry.objects.filter(action="absence.report.withdrawn").count() == 1


def test_a_report_cannot_be_moved_onto_a_checked_day(world):
    created = report(world, day=TODAY + dt.timedelta(days=1))
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    with pytest.raises(ValidationError):
        services.absence_report_update(
            actor=world.guardian_a,
            report_id=created.pk,
            start_date=TODAY,
            end_date=TODAY,
            absence_type=sick(world.school),
        )
    assert AbsenceReport.objects.get(pk=created.pk).start_date == TODAY + dt.timedelta(days=1)


def test_a_day_that_has_not_come_cannot_be_checked(world):
    with pytest.raises(ValidationError):
        services.daily_check_mark(
            actor=world.contact_teacher_a,
            group_id=world.class_a.pk,
            date=TODAY + dt.timedelta(days=1),
        )
    assert not DailyCheck.objects.exists()


def test_a_plain_teacher_of_the_group_may_not_mark_the_check(world):
    member = factories.staff_member(world.school)
    school_services.staff_role_grant(actor=None, member=member, role="teacher", group=world.class_a)
    with pytest.raises(PermissionDenied):
        services.daily_check_mark(actor=member.user, group_id=world.class_a.pk)
    services.daily_check_mark(actor=world.office, group_id=world.class_a.pk)


def test_the_audit_role_is_the_actors_own(world):
    services.attendance_register(
        actor=world.office,
        group_id=world.class_a.pk,
        date=TODAY,
        marks=[services.Mark(pupil_id=world.child_a.pk, status="absent")],
    )
    assert AuditEntry.objects.get(action="absence.attendance.registered").role == "office"


def test_registering_300_pupils_takes_a_handful_of_queries(world, settings):
    """Registering a class, and registering it again with changed marks, costs the same
    number of queries for 2 pupils and for 300, and no more than a handful. The lookup
    that absent marks start is handed to the task queue (one row), as in production."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    big = school_services.group_create(
        actor=None, school_year=world.class_a.school_year, name="4B", grade=4
    )
    school_services.staff_role_grant(
        actor=None,
        member=world.contact_teacher_a.staff_memberships.get(),
        role="contact_teacher",
        group=big,
    )
    for _ in range(300):
        factories.pupil(big)

    def register_twice(group) -> list[int]:
        teacher = type(world.contact_teacher_a).objects.get(pk=world.contact_teacher_a.pk)
        access.roles_of(teacher)  # read by every request before the service
        pupils = list(group.pupils.values_list("pk", flat=True))
        counts = []
        for status in ("present", "absent"):
            marks = [services.Mark(pupil_id=pk, status=status) for pk in pupils]
            _, sql = queries_of(
                partial(
                    services.attendance_register,
                    actor=teacher,
                    group_id=group.pk,
                    date=TODAY,
                    marks=marks,
                )
            )
            counts.append(len(sql))
        absent = AttendanceMark.objects.filter(group=group, date=TODAY, status="absent")
        assert absent.count() == len(pupils)
        return counts

    small = register_twice(world.class_a)
    large = register_twice(big)
    assert large == small
    assert max(large) <= 15


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (dt.date(2026, 11, 22), "not a school day"),  # a Sunday
        (dt.date(2026, 9, 29), "days back"),  # in the autumn holiday, and long ago
        (dt.date(2026, 11, 9), "days back"),  # a school day, 15 days ago
        (dt.date(1970, 1, 1), "days back"),  # what date=0 reads as
    ],
)
@pytest.mark.usefixtures("english")
def test_attendance_and_the_check_only_on_school_days_not_too_far_back(world, day, why):
    """Attendance on a weekend, in a holiday or years ago would show as unexplained absence:
    refused, with nothing saved, and the same for the daily check."""
    with pytest.raises(ValidationError, match=why):
        register(world, [mark(world.child_a)], day=day)
    with pytest.raises(ValidationError, match=why):
        services.daily_check_mark(
            actor=world.contact_teacher_a, group_id=world.class_a.pk, date=day
        )
    assert not AttendanceMark.objects.exists()
    assert not DailyCheck.objects.exists()


@pytest.mark.usefixtures("english")
def test_a_holiday_within_the_limit_is_refused(world, settings):
    settings.ATTENDANCE_DAYS_BACK = 90
    with pytest.raises(ValidationError, match="not a school day for 4A"):
        register(world, [mark(world.child_a)], day=dt.date(2026, 9, 29))
    assert register(world, [mark(world.child_a)], day=dt.date(2026, 9, 25))  # the Friday before


@pytest.mark.usefixtures("english")
def test_last_years_class_and_next_years_class_take_no_attendance_today(world):
    """Kontor sees every group of the school, also last year's 8B and next year's 5A (for
    preparation): neither takes attendance today, so no lookup starts for them."""
    world = factories.every_role(world)
    next_year = school_services.school_year_create(
        actor=None,
        school=world.school,
        name="2027–2028",
        starts_on=dt.date(2027, 8, 16),
        ends_on=dt.date(2028, 6, 16),
    )
    next_class = school_services.group_create(actor=None, school_year=next_year, name="5A", grade=5)
    next_class.pupils.add(world.child_a)
    for group in (world.last_year_class, next_class):
        pupil = group.pupils.first()
        with pytest.raises(ValidationError, match="not a school day"):
            services.attendance_register(
                actor=world.office, group_id=group.pk, date=TODAY, marks=[mark(pupil)]
            )
    assert not AttendanceMark.objects.exists()


def test_two_first_saves_of_the_same_class_and_day_at_once(world, monkeypatch):
    """Two of the class team save the first registration at the same moment: the other's
    save lands between this one's read and its write. No error: this save goes over it."""
    other = factories.staff(world.school, "class_team", world.class_a, "Class Team A")
    read = services._existing_marks

    def read_then_the_other_saves(*args):
        found = read(*args)
        monkeypatch.setattr(services, "_existing_marks", read)
        register(world, [mark(world.child_a, "present"), mark(world.child_b)], actor=other)
        return found  # what this save read before the other's landed

    monkeypatch.setattr(services, "_existing_marks", read_then_the_other_saves)
    saved = register(world, [mark(world.child_a), mark(world.child_b, "present")])
    assert {(m.pupil_id, m.status) for m in saved} == {
        (world.child_a.pk, "absent"),
        (world.child_b.pk, "present"),
    }
    marks = AttendanceMark.objects.filter(group=world.class_a, date=TODAY)
    assert marks.count() == 2
    assert set(marks.values_list("registered_by", flat=True)) == {world.contact_teacher_a.pk}


def test_a_check_that_lands_while_a_report_is_withdrawn_counts(world, monkeypatch):
    """The class team marks the day checked between the withdrawal's read and its write:
    refused, as it would be a moment later; a second withdrawal at once is refused too."""
    first = report(world)
    read = services._own_report

    def read_then_the_day_is_checked(*args):
        found = read(*args)
        monkeypatch.setattr(services, "_own_report", read)
        services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
        return found

    monkeypatch.setattr(services, "_own_report", read_then_the_day_is_checked)
    with pytest.raises(ValidationError) as refused:
        services.absence_report_withdraw(actor=world.guardian_a, report_id=first.pk)
    assert refused.value.code == "checked"
    first.refresh_from_db()
    assert first.status == AbsenceReport.Status.ACTIVE

    second = report(world, TOMORROW)
    stale = read(world.guardian_a, second.pk)
    services.absence_report_withdraw(actor=world.guardian_a, report_id=second.pk)
    monkeypatch.setattr(services, "_own_report", lambda *args: stale)
    with pytest.raises(ValidationError) as again:
        services.absence_report_withdraw(actor=world.guardian_a, report_id=second.pk)
    assert again.value.code == "withdrawn"
    assert AuditEntry.objects.filter(action="absence.report.withdrawn").count() == 1
