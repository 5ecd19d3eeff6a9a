"""Who may see what. Every selector starts here.

- A guardian sees a pupil only with parental responsibility, and never a pupil with a
  protected address if the guardianship is marked restricted.
- Staff see the groups they hold a role in this school year and those groups' pupils; kontor
  and leiing see their whole school. Nobody sees another school.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, Exists, IntegerField, OuterRef, Q, QuerySet, Value

from kontaktbok.core import clock
from kontaktbok.schools.models import Group, Guardianship, Pupil, School, StaffRole

Role = StaffRole.Role


@dataclass(frozen=True)
class ActorRoles:
    """The acting user's roles, read once per request."""

    school_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    group_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    is_guardian: bool = False

    @property
    def is_staff_member(self) -> bool:
        return bool(self.school_roles)

    def has_school_role(self, school_id: int, *roles: str) -> bool:
        return bool(self.school_roles.get(school_id, frozenset()) & set(roles))

    def schools_with(self, *roles: str) -> list[int]:
        return [sid for sid, held in self.school_roles.items() if held & set(roles)]

    @property
    def sees_whole_school(self) -> list[int]:
        return self.schools_with(Role.OFFICE, Role.LEADERSHIP)


def _anonymous(actor: Any) -> bool:
    return actor is None or not getattr(actor, "is_authenticated", False)


def roles_of(actor: Any) -> ActorRoles:
    """The actor's staff roles in force today per school and per group (groups of the
    current school year only), cached on the user object."""
    if _anonymous(actor):
        return ActorRoles()
    cached = getattr(actor, "_kontaktbok_roles", None)
    if cached is not None:
        return cached
    school_roles: dict[int, set[str]] = {}
    group_roles: dict[int, set[str]] = {}
    # One round trip: the staff roles, and a row per guardianship with parental responsibility
    # (school_id NULL) to tell whether the actor is a guardian. A role for a group counts in
    # the group's school year only: last year's class is not this year's pupils.
    staff_rows = (
        StaffRole.objects.in_force()
        .filter(Q(group__isnull=True) | current_year_q("group__"), member__user=actor)
        .values_list("member__school_id", "role", "group_id")
    )
    guardian_rows = Guardianship.objects.filter(
        guardian=actor, parental_responsibility=True
    ).values_list(
        Value(None, output_field=IntegerField()),
        Value("", output_field=CharField()),
        Value(None, output_field=IntegerField()),
    )
    is_guardian = False
    for school_id, role, group_id in staff_rows.union(guardian_rows, all=True):
        if school_id is None:
            is_guardian = True
            continue
        school_roles.setdefault(school_id, set()).add(role)
        if group_id is not None:
            group_roles.setdefault(group_id, set()).add(role)
    roles = ActorRoles(
        school_roles={k: frozenset(v) for k, v in school_roles.items()},
        group_roles={k: frozenset(v) for k, v in group_roles.items()},
        is_guardian=is_guardian,
    )
    actor._kontaktbok_roles = roles
    return roles


def forget_roles(actor: Any) -> None:
    """Drop the cached roles after they changed."""
    if hasattr(actor, "_kontaktbok_roles"):
        del actor._kontaktbok_roles


def current_year_q(prefix: str = "", today: dt.date | None = None) -> Q:
    """Groups of the school year now running, or starting after the summer holiday."""
    today = today or clock.today()
    return Q(
        **{
            f"{prefix}school_year__ends_on__gte": today,
            f"{prefix}school_year__starts_on__lte": today + dt.timedelta(days=90),
        }
    )


def guardian_pupil_q(actor: Any) -> Q:
    """Pupils the actor is guardian of, with parental responsibility, protection respected."""
    allowed = Guardianship.objects.filter(
        pupil=OuterRef("pk"), guardian=actor, parental_responsibility=True
    ).exclude(restricted=True, pupil__protected_address=True)
    return Q(Exists(allowed))


def staff_pupil_q(actor: Any) -> Q:
    """Pupils of the groups the actor holds a role in, and of schools they see whole."""
    roles = roles_of(actor)
    q = Q(pk__in=[])
    if roles.group_roles:
        q |= Q(
            Exists(
                Group.pupils.through.objects.filter(
                    pupil_id=OuterRef("pk"), group_id__in=list(roles.group_roles)
                )
            )
        )
    if roles.sees_whole_school:
        q |= Q(school_id__in=roles.sees_whole_school)
    return q


def visible_pupils(actor: Any) -> QuerySet[Pupil]:
    """Every pupil the actor may see, in any role."""
    if _anonymous(actor):
        return Pupil.objects.none()
    return Pupil.objects.filter(guardian_pupil_q(actor) | staff_pupil_q(actor))


def guardian_pupils(actor: Any) -> QuerySet[Pupil]:
    """The actor's own children (as guardian only)."""
    if _anonymous(actor):
        return Pupil.objects.none()
    return Pupil.objects.filter(guardian_pupil_q(actor))


def visible_groups(actor: Any) -> QuerySet[Group]:
    """Groups the actor works with: their own, or all of a school they see whole."""
    if _anonymous(actor):
        return Group.objects.none()
    roles = roles_of(actor)
    q = Q(pk__in=list(roles.group_roles))
    if roles.sees_whole_school:
        q |= Q(school_id__in=roles.sees_whole_school)
    return Group.objects.filter(q)


def visible_schools(actor: Any) -> QuerySet[School]:
    """Schools where the actor works, and the schools of their children."""
    if _anonymous(actor):
        return School.objects.none()
    roles = roles_of(actor)
    return School.objects.filter(
        Q(pk__in=list(roles.school_roles))
        | Q(Exists(guardian_pupils(actor).filter(school_id=OuterRef("pk"))))
    )


def staff_schools(actor: Any, *roles: str) -> QuerySet[School]:
    """Schools where the actor holds one of ``roles``."""
    return School.objects.filter(pk__in=roles_of(actor).schools_with(*roles))


# Kontor and the school admin keep a school's people (pupils, guardians, staff and roles);
# leiing reads them.
PEOPLE_ROLES = (Role.OFFICE, Role.SCHOOL_ADMIN)


def keeps_people(actor: Any, school_id: int) -> bool:
    """Whether the actor adds and changes the school's pupils, guardians and staff."""
    return roles_of(actor).has_school_role(school_id, *PEOPLE_ROLES)


def people_schools(actor: Any) -> list[int]:
    """The schools whose people the actor keeps."""
    return roles_of(actor).schools_with(*PEOPLE_ROLES)


def pupil_role(actor: Any, pupil: Pupil) -> str:
    """The role in which the actor sees ``pupil``: 'guardian', a staff role, or ''."""
    roles = roles_of(actor)
    if roles.has_school_role(pupil.school_id, Role.LEADERSHIP):
        return Role.LEADERSHIP
    if roles.has_school_role(pupil.school_id, Role.OFFICE):
        return Role.OFFICE
    group_ids = {g.pk for g in pupil.groups.all()}
    held: set[str] = set()
    for group_id in group_ids:
        held |= roles.group_roles.get(group_id, frozenset())
    for role in (Role.CONTACT_TEACHER, Role.CLASS_TEAM, Role.TEACHER):
        if role in held:
            return role
    if guardian_pupils(actor).filter(pk=pupil.pk).exists():
        return "guardian"
    return ""
