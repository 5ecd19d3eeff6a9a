"""Who may do what with a leave application. Reads are scoped in ``leave.selectors``."""

from typing import Any

from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Subquery, Value

from kontaktbok.leave.models import LeaveApplication
from kontaktbok.schools import access
from kontaktbok.schools.models import Group, StaffMember, StaffRole

Role = StaffRole.Role


def contact_teacher_groups(actor: Any) -> list[int]:
    """The groups where the actor is contact teacher."""
    roles = access.roles_of(actor)
    return [gid for gid, held in roles.group_roles.items() if Role.CONTACT_TEACHER in held]


def _taught(actor: Any) -> QuerySet[Any] | None:
    """The pupils' places in the groups where the actor is contact teacher (None if none)."""
    groups = contact_teacher_groups(actor)
    if not groups:
        return None
    return Group.pupils.through.objects.filter(group_id__in=groups)


def with_staff_answers(
    queryset: QuerySet[LeaveApplication], actor: Any
) -> QuerySet[LeaveApplication]:
    """Read, with the applications, whether ``actor`` is their contact teacher
    (``actor_teaches``, which ``is_contact_teacher_of`` then uses) and the actor's title at
    their school (``actor_title``), so that asking about many applications costs no query
    each."""
    taught = _taught(actor)
    teaches = (
        Exists(taught.filter(pupil_id=OuterRef("pupil_id"))) if taught is not None else Value(False)
    )
    return queryset.annotate(
        actor_title=Subquery(
            StaffMember.objects.filter(user=actor, school=OuterRef("school_id"))
            .order_by("pk")
            .values("title")[:1]
        ),
        actor_teaches=teaches,
        answers_for=Value(actor.pk, output_field=IntegerField()),
    )


def is_contact_teacher_of(actor: Any, application: LeaveApplication) -> bool:
    """Whether the pupil is in one of the actor's classes: read along with the application
    (``with_staff_answers``), else asked here."""
    if getattr(application, "answers_for", None) == actor.pk:
        return bool(application.actor_teaches)  # type: ignore[attr-defined]
    taught = _taught(actor)
    return taught is not None and taught.filter(pupil_id=application.pupil_id).exists()


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
