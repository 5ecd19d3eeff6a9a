"""Who may do what with a leave application. Reads are scoped in ``leave.selectors``."""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from kontaktbok.leave.models import LeaveApplication
from kontaktbok.schools import access
from kontaktbok.schools.models import Group, StaffMember, StaffRole

Role = StaffRole.Role


def contact_teacher_groups(actor: Any) -> list[int]:
    """The groups where the actor is contact teacher."""
    roles = access.roles_of(actor)
    return [gid for gid, held in roles.group_roles.items() if Role.CONTACT_TEACHER in held]


def with_staff_answers(
    queryset: QuerySet[LeaveApplication], actor: Any
) -> QuerySet[LeaveApplication]:
    """Read, with the applications, whether ``actor`` is their contact teacher and the
    actor's title at their school; ``remember_staff_answers`` keeps them on each one."""
    queryset = queryset.annotate(
        actor_title=Subquery(
            StaffMember.objects.filter(user=actor, school=OuterRef("school_id"))
            .order_by("pk")
            .values("title")[:1]
        )
    )
    groups = contact_teacher_groups(actor)
    if groups:
        teaches = Group.pupils.through.objects.filter(
            group_id__in=groups, pupil_id=OuterRef("pupil_id")
        )
        queryset = queryset.annotate(actor_teaches=Exists(teaches))
    return queryset


def remember_staff_answers(actor: Any, application: LeaveApplication) -> None:
    if "actor_teaches" in application.__dict__:
        known = application.__dict__.setdefault("_contact_teacher_of", {})
        known[actor.pk] = application.__dict__["actor_teaches"]


def is_contact_teacher_of(actor: Any, application: LeaveApplication) -> bool:
    groups = contact_teacher_groups(actor)
    if not groups:
        return False
    # Asked several times per request about one application: remember the answer on it.
    known: dict[int, bool] = application.__dict__.setdefault("_contact_teacher_of", {})
    if actor.pk not in known:
        known[actor.pk] = Group.pupils.through.objects.filter(
            group_id__in=groups, pupil_id=application.pupil_id
        ).exists()
    return known[actor.pk]


def is_leadership_of(actor: Any, application: LeaveApplication) -> bool:
    return access.roles_of(actor).has_school_role(application.school_id, Role.LEADERSHIP)


def may_decide(actor: Any, application: LeaveApplication) -> bool:
    """By the local regulation: the contact teacher decides short leave, the principal
    (leiing) longer leave; leiing may always decide."""
    if is_leadership_of(actor, application):
        return True
    return (
        application.decider_role == LeaveApplication.Decider.CONTACT_TEACHER
        and is_contact_teacher_of(actor, application)
    )


def may_record_consent(actor: Any, application: LeaveApplication) -> bool:
    """Kontor, leiing and the decider record the other guardian's consent given another way."""
    if access.roles_of(actor).has_school_role(application.school_id, Role.OFFICE):
        return True
    return may_decide(actor, application)


def role_for(actor: Any, application: LeaveApplication) -> str:
    """The role in which the actor works on the application, for the audit log."""
    roles = access.roles_of(actor)
    if roles.has_school_role(application.school_id, Role.LEADERSHIP):
        return Role.LEADERSHIP
    if roles.has_school_role(application.school_id, Role.OFFICE):
        return Role.OFFICE
    if is_contact_teacher_of(actor, application):
        return Role.CONTACT_TEACHER
    return ""
