"""Who works with a group's attendance."""

import pytest
from django.core.exceptions import PermissionDenied

from kontaktbok.absence import rules, services
from kontaktbok.core import clock
from kontaktbok.schools.models import StaffRole
from tests import factories

Role = StaffRole.Role


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.SOCIAL_TEACHER, Role.SFO_LEADER])
def test_a_role_for_a_group_that_teaches_nothing_does_not_register_attendance(world, role):
    holder = factories.staff(world.school, role, world.class_b)
    assert not rules.works_with_group(holder, world.class_b)
    with pytest.raises(PermissionDenied):
        services.attendance_register(
            actor=holder,
            group_id=world.class_b.pk,
            date=clock.today(),
            marks=[services.Mark(world.child_a2.pk, "present")],
        )


@pytest.mark.parametrize("role", [Role.CONTACT_TEACHER, Role.CLASS_TEAM, Role.TEACHER])
def test_the_groups_teachers_register_attendance(world, role):
    teacher = factories.staff(world.school, role, world.class_b)
    assert rules.works_with_group(teacher, world.class_b)
    marks = services.attendance_register(
        actor=teacher,
        group_id=world.class_b.pk,
        date=clock.today(),
        marks=[services.Mark(world.child_a2.pk, "present")],
    )
    assert [m.pupil_id for m in marks if m.status == "present"]
