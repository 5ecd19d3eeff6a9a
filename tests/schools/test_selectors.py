import datetime as dt
from functools import partial

import pytest
from django.http import Http404

from kontaktbok.accounts.models import User
from kontaktbok.schools import selectors
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import StaffRole
from tests import factories
from tests.query_counts import assert_same_count, queries_of


def test_school_days_skip_weekends_and_holidays(world):
    year = world.school.school_years.get()
    days = selectors.school_days(year, dt.date(2026, 9, 25), dt.date(2026, 10, 6))
    # Friday 25 Sep, then the autumn holiday week, then Monday 5 and Tuesday 6 Oct.
    assert days == [dt.date(2026, 9, 25), dt.date(2026, 10, 5), dt.date(2026, 10, 6)]


def test_current_school_year(world):
    assert selectors.current_school_year(world.school, dt.date(2026, 11, 24)).name == "2026–2027"
    assert selectors.current_school_year(world.school, dt.date(2027, 7, 1)) is None


def test_guardian_children_with_class_and_contact_teacher(world):
    def read():
        children = selectors.guardian_children(actor=world.guardian_a)
        return [(c.pupil.pk, [t.user.full_name for t in c.contact_teachers]) for c in children]

    found, few = queries_of(read)
    assert sorted(found) == sorted(
        [(world.child_a.pk, ["Teacher A"]), (world.child_a2.pk, ["Teacher B"])]
    )
    for n in range(3):
        factories.staff(world.school, StaffRole.Role.CONTACT_TEACHER, world.class_b, f"Extra {n}")
        pupil = factories.pupil(world.class_a)
        school_services.guardianship_set(actor=None, guardian=world.guardian_a, pupil=pupil)
    found, many = queries_of(read)
    assert len(found) == 5
    assert sorted(dict(found)[world.child_a2.pk]) == ["Extra 0", "Extra 1", "Extra 2", "Teacher B"]
    assert_same_count(few, many)


def test_staff_groups_query_count_does_not_grow(world):
    def read(teacher):
        groups = list(selectors.staff_groups(actor=teacher))
        pupils = [p.full_name for g in groups for p in g.pupils.all()]
        return pupils, sorted(m.user.full_name for m in selectors.contact_teachers(groups))

    def teacher():  # as a request reads it, its roles not yet known
        return User.objects.get(pk=world.contact_teacher_b.pk)

    (pupils, teachers), few = queries_of(partial(read, teacher()))
    assert (len(pupils), teachers) == (2, ["Teacher B"])
    for _ in range(15):
        factories.pupil(world.class_b)
    factories.staff(world.school, StaffRole.Role.CONTACT_TEACHER, world.class_b, "Extra")
    group = school_services.group_create(
        actor=None, school_year=world.class_b.school_year, name="9C", grade=9
    )
    school_services.staff_role_grant(
        actor=None,
        member=world.contact_teacher_b.staff_memberships.get(),
        role=StaffRole.Role.CONTACT_TEACHER,
        group=group,
    )
    for _ in range(3):
        factories.pupil(group)
    (pupils, teachers), many = queries_of(partial(read, teacher()))
    assert (len(pupils), teachers) == (20, ["Extra", "Teacher B", "Teacher B"])
    assert_same_count(few, many)


def test_get_pupil_of_another_family_is_404(world):
    with pytest.raises(Http404):
        selectors.get_pupil(actor=world.guardian_b, pupil_id=world.child_a.pk)
    with pytest.raises(Http404):
        selectors.get_group(actor=world.contact_teacher_b, group_id=world.class_a.pk)


def test_guardians_listed_only_for_staff(world):
    assert selectors.pupil_guardians(actor=world.guardian_b, pupil=world.child_b) == []
    staff_view = selectors.pupil_guardians(actor=world.office, pupil=world.child_b)
    assert [g.guardian for g in staff_view] == [world.guardian_b]


def test_school_overview_for_office_only(world):
    _school, groups = selectors.school_overview(actor=world.office, school_id=world.school.pk)
    assert {g.name: g.pupil_count for g in groups} == {"4A": 2, "9B": 2}
    with pytest.raises(Http404):
        selectors.school_overview(actor=world.contact_teacher_b, school_id=world.school.pk)
    with pytest.raises(Http404):
        selectors.school_overview(actor=world.other_leadership, school_id=world.school.pk)
    advisor = factories.staff(world.school, StaffRole.Role.ADVISOR)
    with pytest.raises(Http404):
        selectors.school_overview(actor=advisor, school_id=world.school.pk)
