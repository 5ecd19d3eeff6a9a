"""Reads about missing pupils, absence/lookup/selectors.py: who is missing now (the latest
registration wins; a reason, a report or leave explains), whose escalation is due, which
classes have not registered, who sees a case, the overview and the timeline."""

import datetime as dt

import pytest
from django.http import Http404

from kontaktbok.absence import services
from kontaktbok.absence.lookup import selectors
from kontaktbok.absence.lookup import services as lookup
from kontaktbok.absence.models import LookupCase
from kontaktbok.schools import services as school_services
from tests import factories
from tests.absence.lookup_helpers import (
    TODAY,
    at,
    case_of,
    marked_anyway,
    moment,
    register,
    steps,
)

pytestmark = pytest.mark.django_db
Status = LookupCase.Status


def missing_ids(day: dt.date = TODAY, **extra) -> list[int]:
    return [m.pupil.pk for m in selectors.missing_pupils(day=day, **extra)]


def open_case(world, pupil=None, hour: int = 10, minute: int = 0) -> LookupCase:
    """Register the pupil (default Anna, 4A) absent at a moment after the lookup times."""
    pupil = pupil or world.child_a
    group = world.class_b if pupil in (world.child_a2, world.protected_child) else world.class_a
    teacher = world.contact_teacher_a if group == world.class_a else world.contact_teacher_b
    with at(hour, minute):
        register(teacher, group, {pupil: "absent"})
    return case_of(pupil)


# --- lookup_time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        (1, dt.time(8, 50)),
        (7, dt.time(8, 50)),
        (None, dt.time(8, 50)),
        (8, dt.time(10)),
        (10, dt.time(10)),
    ],
)
def test_the_lookup_time_follows_the_grade_band(world, grade, expected):
    assert selectors.lookup_time(world.school, grade) == expected


# --- missing_pupils -------------------------------------------------------------------------


def test_pupils_registered_absent_with_nothing_to_explain_it_are_missing(world):
    with at(8, 35):
        register(
            world.contact_teacher_b,
            world.class_b,
            {world.child_a2: "absent", world.protected_child: "present"},
        )
    [missing] = selectors.missing_pupils(day=TODAY)
    assert missing.pupil == world.child_a2
    assert missing.group == world.class_b
    assert missing.mark.registered_at == moment(8, 35)
    assert missing.mark.registered_by == world.contact_teacher_b


def test_the_latest_registration_of_the_day_wins(world):
    def lesson(pupil, status, hour, number, teacher=world.contact_teacher_b):
        with at(hour):
            services.attendance_register(
                actor=teacher,
                group_id=world.class_b.pk,
                date=TODAY,
                lesson=number,
                marks=[
                    services.Mark(pupil.pk, status, late_minutes=5 if status == "late" else None)
                ],
            )

    lesson(world.child_a2, "absent", 8, 1)
    lesson(world.child_a2, "present", 9, 2)
    lesson(world.protected_child, "late", 8, 1)
    lesson(world.protected_child, "absent", 9, 2)
    assert missing_ids() == [world.protected_child.pk]


def test_a_staff_reason_a_report_or_leave_explains_the_absence(world):
    factories_pupil = factories.pupil(world.class_a, "Cecilie")
    with at(8, 40):
        register(
            world.contact_teacher_a,
            world.class_a,
            {world.child_a: "absent", world.child_b: "absent", factories_pupil: "absent"},
        )
        register(
            world.contact_teacher_b,
            world.class_b,
            {world.child_a2: "absent"},
            staff_reason="Hos helsesjukepleiar",
        )
    services.absence_report_create(
        actor=world.guardian_b,
        pupil_id=world.child_b.pk,
        start_date=TODAY - dt.timedelta(days=1),
        end_date=TODAY,
        absence_type=world.school.absence_types.get(code="sick"),
    )
    services.leave_days_record(
        actor=None, pupil=factories_pupil, start_date=TODAY, end_date=TODAY, reference="leave:9"
    )
    assert missing_ids() == [world.child_a.pk]
    # The leave taken back (on appeal): the pupil is missing again.
    services.leave_days_remove(actor=None, reference="leave:9")
    assert missing_ids() == sorted([world.child_a.pk, factories_pupil.pk])


def test_a_pupil_with_a_case_today_is_not_missing_again(world):
    open_case(world)
    assert missing_ids() == []


def test_only_the_pupils_asked_for(world):
    with at(8, 40):
        register(
            world.contact_teacher_a,
            world.class_a,
            {world.child_a: "absent", world.child_b: "absent"},
        )
    assert missing_ids(pupil_ids=[world.child_b.pk]) == [world.child_b.pk]
    assert missing_ids(pupil_ids=[]) == []


def test_pupils_of_every_school_are_looked_for(world):
    teacher = factories.staff(
        world.other_school,
        "contact_teacher",
        world.other_child.groups.get(),
        "Other teacher",
    )
    with at(8, 40):
        register(teacher, world.other_child.groups.get(), {world.other_child: "absent"})
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    assert missing_ids() == sorted([world.child_a.pk, world.other_child.pk])


def test_nobody_is_missing_on_a_day_without_school(world):
    saturday = dt.date(2026, 11, 28)
    with at(9, 0, day=saturday):
        marked_anyway(world.contact_teacher_a, world.class_a, {world.child_a: "absent"}, saturday)
    assert missing_ids(day=saturday) == []


def test_a_school_with_a_holiday_today_is_skipped_while_others_are_not(world):
    """A planning day entered after the morning's registration: nobody there is missing."""
    teacher = factories.staff(
        world.other_school, "contact_teacher", world.other_child.groups.get(), "Other teacher"
    )
    with at(8, 40):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        register(teacher, world.other_child.groups.get(), {world.other_child: "absent"})
    school_services.holiday_add(
        actor=world.school_admin,
        school_year=world.class_a.school_year,
        name="Planleggingsdag",
        starts_on=TODAY,
        ends_on=TODAY,
    )
    assert missing_ids() == [world.other_child.pk]


# --- due_for_escalation ---------------------------------------------------------------------


def test_due_for_escalation_is_todays_open_cases_whose_window_has_passed(world):
    anna = open_case(world, hour=8, minute=55)  # due 09:35
    aksel = open_case(world, world.child_a2, hour=10)  # due 10:40
    bror = open_case(world, world.child_b, hour=9)  # due 09:40, answered
    with at(9, 5):
        lookup.lookup_answer(actor=world.guardian_b, case_id=bror.pk, answer="on_the_way")
    assert selectors.due_for_escalation(moment(9, 34)) == []
    assert selectors.due_for_escalation(moment(9, 35)) == [anna]
    assert selectors.due_for_escalation(moment(11, 0)) == [anna, aksel]
    assert selectors.due_for_escalation(moment(11, 0, day=TODAY + dt.timedelta(days=1))) == []
    with at(11, 0):
        lookup.escalate_due()
    assert selectors.due_for_escalation(moment(11, 5)) == []


# --- unregistered_classes -------------------------------------------------------------------


def test_classes_with_pupils_and_no_registration_after_the_first_lesson(world):
    year = world.class_a.school_year
    school_services.group_create(actor=None, school_year=year, name="Tom", grade=5)  # no pupils
    with at(8, 40):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "present"})
    assert selectors.unregistered_classes(moment(9, 14)) == []
    at_915 = selectors.unregistered_classes(moment(9, 15))
    assert world.class_b in at_915 and world.class_a not in at_915
    # The other school's class too: each school decides by its own first lesson.
    assert {g.school for g in at_915} == {world.school, world.other_school}
    assert selectors.unregistered_classes(moment(9, 30, day=dt.date(2026, 11, 28))) == []


def test_a_registration_for_one_lesson_counts(world):
    with at(8, 40):
        services.attendance_register(
            actor=world.contact_teacher_b,
            group_id=world.class_b.pk,
            date=TODAY,
            lesson=1,
            marks=[
                services.Mark(world.child_a2.pk, "present"),
                services.Mark(world.protected_child.pk, "present"),
            ],
        )
    assert world.class_b not in selectors.unregistered_classes(moment(9, 30))


# --- who sees a case ------------------------------------------------------------------------


def test_staff_see_the_cases_of_their_school_or_their_classes(world):
    anna = open_case(world)
    aksel = open_case(world, world.child_a2)
    assert set(selectors.staff_cases(world.office)) == {anna, aksel}
    assert set(selectors.staff_cases(world.leadership)) == {anna, aksel}
    assert set(selectors.staff_cases(world.contact_teacher_a)) == {anna}
    assert set(selectors.staff_cases(world.contact_teacher_b)) == {aksel}
    assert set(selectors.staff_cases(world.other_leadership)) == set()
    assert set(selectors.staff_cases(world.guardian_a)) == set()
    with pytest.raises(Http404):
        selectors.staff_case(actor=world.contact_teacher_b, case_id=anna.pk)
    assert selectors.staff_case(actor=world.contact_teacher_a, case_id=anna.pk) == anna


def test_guardians_see_the_cases_of_their_own_children(world):
    anna = open_case(world)
    vern = open_case(world, world.protected_child)
    assert set(selectors.guardian_cases(world.guardian_a)) == {anna}
    assert set(selectors.guardian_cases(world.guardian_b)) == {vern}
    assert set(selectors.guardian_cases(world.restricted_guardian)) == set()
    assert set(selectors.guardian_cases(world.office)) == set()
    with pytest.raises(Http404):
        selectors.guardian_case(actor=world.guardian_b, case_id=anna.pk)


def test_visible_case_says_as_whom(world):
    anna = open_case(world)
    assert selectors.visible_case(actor=world.office, case_id=anna.pk) == (anna, "staff")
    assert selectors.visible_case(actor=world.guardian_a, case_id=anna.pk) == (anna, "guardian")
    for outsider in (world.guardian_b, world.contact_teacher_b, world.other_leadership):
        with pytest.raises(Http404):
            selectors.visible_case(actor=outsider, case_id=anna.pk)


def test_staff_role_and_may_close(world):
    anna = open_case(world)
    assert selectors.staff_role(world.leadership, anna) == "leadership"
    assert selectors.staff_role(world.office, anna) == "office"
    assert selectors.staff_role(world.contact_teacher_a, anna) == "contact_teacher"
    assert selectors.staff_role(world.contact_teacher_b, anna) == ""
    assert selectors.may_close(world.contact_teacher_a, anna)
    assert not selectors.may_close(world.contact_teacher_b, anna)
    assert not selectors.may_close(world.guardian_a, anna)


def test_guardian_open_cases_are_todays_unclosed_ones(world):
    anna = open_case(world)
    aksel = open_case(world, world.child_a2, hour=10, minute=5)
    with at(10, 30):
        assert selectors.guardian_open_cases(actor=world.guardian_a) == [anna, aksel]
        lookup.lookup_close(actor=world.office, case_id=anna.pk, outcome="found")
        assert selectors.guardian_open_cases(actor=world.guardian_a) == [aksel]
    with at(8, 0, day=TODAY + dt.timedelta(days=1)):
        assert selectors.guardian_open_cases(actor=world.guardian_a) == []


# --- the overview ---------------------------------------------------------------------------


def test_school_cases_open_first_with_the_last_contact(world, django_capture_on_commit_callbacks):
    with at(9, 0), django_capture_on_commit_callbacks(execute=True):
        anna = open_case(world, hour=9)
    aksel = open_case(world, world.child_a2, hour=10, minute=5)
    with at(10, 10):
        lookup.lookup_answer(actor=world.guardian_a, case_id=aksel.pk, answer="on_the_way")
        lookup.lookup_close(actor=world.office, case_id=anna.pk, outcome="found")
    with at(10, 20):
        school, cases = selectors.school_cases(actor=world.office, school_id=world.school.pk)
    assert school == world.school
    assert cases == [aksel, anna]  # open before closed
    assert cases[0].last_contact == moment(10, 10)  # the answer
    assert cases[1].last_contact == moment(9, 0)  # the delivered alert


def test_school_cases_take_three_queries_however_many_cases(world, django_assert_num_queries):
    open_case(world)
    office = world.office
    with at(10, 20):
        selectors.school_cases(actor=office, school_id=world.school.pk)  # the roles, cached
        with django_assert_num_queries(3):  # the school, the cases, the last deliveries
            selectors.school_cases(actor=office, school_id=world.school.pk)
    open_case(world, world.child_b)
    for n in range(4):
        open_case(world, factories.pupil(world.class_a, f"Ekstra{n}"))
    with at(10, 20), django_assert_num_queries(3):
        _school, cases = selectors.school_cases(actor=office, school_id=world.school.pk)
    assert len(cases) == 6


def test_only_kontor_and_leiing_get_the_overview(world):
    open_case(world)
    selectors.school_cases(actor=world.leadership, school_id=world.school.pk)
    for outsider in (world.contact_teacher_a, world.guardian_a, world.other_leadership):
        with pytest.raises(Http404):
            selectors.school_cases(actor=outsider, school_id=world.school.pk)


# --- the timeline ---------------------------------------------------------------------------


def test_the_timeline_shows_each_guardian_only_their_own_alerts(
    world, django_capture_on_commit_callbacks
):
    father = factories.user("Far til Anna")
    school_services.guardianship_set(actor=None, guardian=father, pupil=world.child_a)
    with at(9, 0), django_capture_on_commit_callbacks(execute=True):
        anna = open_case(world, hour=9)
    staff_view = selectors.timeline(actor=world.office, case=anna, as_guardian=False)
    assert [e.actor for e in staff_view if e.kind == "alert"] == ["Guardian A", "Far til Anna"]
    assert staff_view[0].kind == "registered" and staff_view[0].actor == "Teacher A"
    mine = selectors.timeline(actor=father, case=anna, as_guardian=True)
    assert [e.actor for e in mine if e.kind == "alert"] == ["Far til Anna"]
    assert [e.kind for e in mine] == ["registered", "opened", "alert"]


def test_the_timeline_of_one_case_holds_nothing_of_another(world):
    anna = open_case(world)
    open_case(world, world.child_b)
    assert steps(world.office, anna) == [
        ("registered", "", "", "", ""),
        ("opened", "", "", "", ""),
        ("alert", "alert", "email", "delivered", ""),  # the worker sent it after commit
    ]
