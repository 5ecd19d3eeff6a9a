import datetime as dt

import pytest
from django.http import Http404

from kontaktbok.schools import selectors
from kontaktbok.schools.models import StaffRole
from tests import factories


def test_school_days_skip_weekends_and_holidays(world):
    year = world.school.school_years.get()
    days = selectors.school_days(year, dt.date(2026, 9, 25), dt.date(2026, 10, 6))
    # Friday 25 Sep, then the autumn holiday week, then Monday 5 and Tuesday 6 Oct.
    assert days == [dt.date(2026, 9, 25), dt.date(2026, 10, 5), dt.date(2026, 10, 6)]


def test_current_school_year(world):
    assert selectors.current_school_year(world.school, dt.date(2026, 11, 24)).name == "2026–2027"
    assert selectors.current_school_year(world.school, dt.date(2027, 7, 1)) is None


def test_guardian_children_with_class_and_contact_teacher(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        children = selectors.guardian_children(actor=world.guardian_a)
        teachers = [[t.user.full_name for t in child.contact_teachers] for child in children]
    assert {c.pupil.pk for c in children} == {world.child_a.pk, world.child_a2.pk}
    assert sorted(name for names in teachers for name in names) == ["Teacher A", "Teacher B"]


def test_staff_groups_query_count_does_not_grow(world, django_assert_max_num_queries):
    teacher = world.contact_teacher_b
    for _ in range(15):
        factories.pupil(world.class_b)
    with django_assert_max_num_queries(5):
        groups = list(selectors.staff_groups(actor=teacher))
        names = [p.full_name for g in groups for p in g.pupils.all()]
    assert len(names) == 17


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
