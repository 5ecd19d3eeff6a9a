"""Leave selectors: the rules that hold, scoping by actor, days used, who decides."""

import datetime as dt

import pytest
from django.http import Http404

from kontaktbok.leave import selectors, services
from kontaktbok.leave.models import Decision, LeaveApplication
from tests import factories
from tests.leave.helpers import MONDAY, apply, decide, second_guardian

pytestmark = pytest.mark.django_db


def test_the_schools_rules_override_the_municipalitys_which_override_the_defaults(world):
    defaults = selectors.rules_for(world.school)
    assert defaults.pk is None
    assert (defaults.contact_teacher_max_days, defaults.max_days_per_year) == (3, 10)
    assert defaults.lead_time_days == 14 and defaults.religious_holidays_right
    assert world.school.municipality.name in defaults.regulation_name
    assert defaults.rules_text  # a default text is always shown
    services.municipality_leave_rules_set(
        actor=None, municipality=world.school.municipality, data={"max_days_per_year": 7}
    )
    assert selectors.rules_for(world.school).max_days_per_year == 7
    assert selectors.rules_for(world.other_school).max_days_per_year == 10
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"max_days_per_year": 4}
    )
    assert selectors.rules_for(world.school).max_days_per_year == 4


def test_guardians_see_their_own_childrens_applications_only(world):
    other = second_guardian(world)
    application = apply(world)
    assert list(selectors.guardian_applications(actor=other)) == [application]
    assert selectors.guardian_application(actor=other, application_id=application.pk)
    for outsider in (world.guardian_b, world.guardian_without_responsibility, world.office):
        assert not selectors.guardian_applications(actor=outsider).exists()
        with pytest.raises(Http404):
            selectors.guardian_application(actor=outsider, application_id=application.pk)


def test_staff_see_their_pupils_or_their_school(world):
    application = apply(world)  # child_a, class 4A
    for actor in (world.contact_teacher_a, world.office, world.leadership):
        assert selectors.staff_application(actor=actor, application_id=application.pk)
    for actor in (
        world.contact_teacher_b,
        world.other_leadership,
        world.school_admin,
        world.guardian_a,
    ):
        with pytest.raises(Http404):
            selectors.staff_application(actor=actor, application_id=application.pk)
    assert selectors.is_leave_staff(world.contact_teacher_b)
    assert not selectors.is_leave_staff(world.guardian_a)
    assert not selectors.is_leave_staff(world.school_admin)


def test_the_queue_sorts_by_what_the_actor_must_do(world):
    short = apply(world)
    long = apply(world, dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    teacher = selectors.staff_queue(actor=world.contact_teacher_a)
    assert teacher.to_decide == [short] and teacher.decided == [long]
    leader = selectors.staff_queue(actor=world.leadership)
    assert leader.to_decide == [short, long]


def test_days_used_follow_the_decision_in_force(world):
    leave_rules = selectors.rules_for(world.school)
    year = world.school.school_years.get()
    first = apply(world, MONDAY, dt.date(2027, 1, 13))
    decide(
        world,
        first,
        Decision.Outcome.PARTLY_APPROVED,
        approved_start=MONDAY,
        approved_end=dt.date(2027, 1, 12),
    )
    religious = apply(world, dt.date(2027, 2, 1), category=LeaveApplication.Category.RELIGIOUS)
    decide(world, religious)
    assert selectors.days_used(world.child_a, year, leave_rules) == 2
    assert selectors.days_used(world.child_a, year, leave_rules, exclude=first) == 0


def test_the_deciders_are_told(world):
    short = apply(world)
    assert selectors.deciders(short) == [world.contact_teacher_a]
    long = apply(world, dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    assert selectors.deciders(long) == [world.leadership]


def test_only_active_deciders_in_office_are_told(world):
    """A leader who left (role ended) or whose account is off is not told; with no contact
    teacher to tell, the leadership decides."""
    gone = factories.staff(world.school, "leadership", name="Left", ends_on=dt.date(2026, 11, 1))
    off = factories.staff(world.school, "leadership", name="Deactivated")
    off.is_active = False
    off.save()
    long = apply(world, dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    assert gone not in selectors.deciders(long) and off not in selectors.deciders(long)
    assert selectors.deciders(long) == [world.leadership]
    world.contact_teacher_a.is_active = False
    world.contact_teacher_a.save()
    assert selectors.deciders(apply(world)) == [world.leadership]


def test_a_deactivated_guardian_is_neither_asked_nor_told(world, queued_tasks):
    """Consent and the decision go to guardians the school may tell: the same rule as every
    other letter from the school (``Guardianship.objects.to_inform``)."""
    other = second_guardian(world)
    other.is_active = False
    other.save()
    application = apply(world)
    assert application.status == LeaveApplication.Status.AWAITING_CONSENT  # still must agree
    assert not [task for task in queued_tasks if task[0].endswith("ask_for_consent")]
    assert selectors.guardians_to_inform(world.child_a) == [world.guardian_a]


def test_preview_counts_days_and_warns(world):
    found = selectors.preview(
        pupil=world.child_a,
        start_date=dt.date(2026, 11, 27),
        end_date=dt.date(2026, 11, 30),
        category="travel",
    )
    assert found is not None
    assert (found.school_days, found.late, found.over_limit) == (2, True, False)
    assert found.decider == LeaveApplication.Decider.CONTACT_TEACHER
    assert (
        selectors.preview(
            pupil=world.child_a,
            start_date=MONDAY,
            end_date=dt.date(2027, 8, 30),
            category="travel",
        )
        is None
    )
