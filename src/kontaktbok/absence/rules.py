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
    """The group's teachers (contact teacher, class team, teacher), kontor and leiing: they
    register attendance and see the day. A rådgjevar or SFO-leiar given a role for the group
    sees its pupils, not its registration."""
    roles = roles_of(actor)
    return bool(
        roles.group_roles.get(group.pk, frozenset()) & StaffRole.GROUP_ROLES
    ) or roles.has_school_role(group.school_id, Role.OFFICE, Role.LEADERSHIP)


def is_class_team_of(actor: Any, group: Group) -> bool:
    roles = roles_of(actor)
    return bool(roles.group_roles.get(group.pk, frozenset()) & DETAIL_GROUP_ROLES)


def may_check(actor: Any, group: Group) -> bool:
    """The class team, kontor and leiing: they mark the day checked and see statistics."""
    return is_class_team_of(actor, group) or roles_of(actor).has_school_role(
        group.school_id, Role.OFFICE, Role.LEADERSHIP
    )


def role_in_group(actor: Any, group: Group) -> str:
    """The role in which the actor acts for the group, for the audit log."""
    roles = roles_of(actor)
    held = roles.group_roles.get(group.pk, frozenset())
    for role in (Role.CONTACT_TEACHER, Role.CLASS_TEAM, Role.TEACHER):
        if role in held:
            return role
    for role in (Role.LEADERSHIP, Role.OFFICE):
        if roles.has_school_role(group.school_id, role):
            return role
    return ""


def details_by_pupil(actor: Any, group: Group, pupil_ids: list[int]) -> dict[int, bool]:
    """Need to know per pupil of ``group``, in at most one query: kontor and leiing see
    every detail; a teacher sees them for pupils in any group where they are contact
    teacher or class team (so for every pupil of such a group itself)."""
    roles = roles_of(actor)
    if roles.has_school_role(group.school_id, Role.OFFICE, Role.LEADERSHIP):
        return dict.fromkeys(pupil_ids, True)
    if roles.group_roles.get(group.pk, frozenset()) & DETAIL_GROUP_ROLES:
        return dict.fromkeys(pupil_ids, True)
    detail_groups = {gid for gid, held in roles.group_roles.items() if held & DETAIL_GROUP_ROLES}
    result = dict.fromkeys(pupil_ids, False)
    if not detail_groups:
        return result
    pairs = Group.pupils.through.objects.filter(
        pupil_id__in=pupil_ids, group_id__in=detail_groups
    ).values_list("pupil_id", flat=True)
    for pupil_id in pairs:
        result[pupil_id] = True
    return result
