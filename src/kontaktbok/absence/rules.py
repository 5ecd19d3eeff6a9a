"""Need to know: who may see the type and comment of a guardian's report."""

from typing import Any

from kontaktbok.schools.access import roles_of
from kontaktbok.schools.models import Group, Pupil, StaffRole

Role = StaffRole.Role
DETAIL_GROUP_ROLES = {Role.CONTACT_TEACHER, Role.CLASS_TEAM}


def sees_report_details(actor: Any, pupil: Pupil, groups: list[Group]) -> bool:
    """The pupil's contact teacher and class team, kontor and leiing (and the guardians)."""
    roles = roles_of(actor)
    if roles.has_school_role(pupil.school_id, Role.OFFICE, Role.LEADERSHIP):
        return True
    return any(roles.group_roles.get(g.pk, frozenset()) & DETAIL_GROUP_ROLES for g in groups)


def works_with_group(actor: Any, group: Group) -> bool:
    roles = roles_of(actor)
    return bool(roles.group_roles.get(group.pk)) or roles.has_school_role(
        group.school_id, Role.OFFICE, Role.LEADERSHIP
    )


def is_class_team_of(actor: Any, group: Group) -> bool:
    roles = roles_of(actor)
    return bool(roles.group_roles.get(group.pk, frozenset()) & DETAIL_GROUP_ROLES)
