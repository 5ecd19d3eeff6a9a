"""Staff for the directory tests, built through the services."""

from typing import Any

from kontaktbok.directory.services import directory_entry_update
from kontaktbok.schools import services
from kontaktbok.schools.models import Group, StaffMember, StaffRole
from tests import factories
from tests.factories import World

Role = StaffRole.Role


def member_of(user: Any) -> StaffMember:
    return user.staff_memberships.get()


def add_staff(
    world: World,
    role: str,
    name: str,
    *,
    group: Group | None = None,
    school: Any = None,
    **entry: Any,
) -> StaffMember:
    """A staff member with ``role``; ``entry`` fields are set by the school admin."""
    member = member_of(factories.staff(school or world.school, role, group, name))
    if entry:
        directory_entry_update(actor=world.school_admin, member=member, data=entry)
    return member


def sfo_group(world: World) -> Group:
    return services.group_create(
        actor=None, school_year=world.class_a.school_year, name="SFO", kind=Group.Kind.SFO
    )
