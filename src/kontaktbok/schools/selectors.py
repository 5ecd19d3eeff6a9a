"""Reads about schools, groups and pupils, always scoped by the acting user."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import access
from kontaktbok.schools.models import (
    AbsenceType,
    Group,
    Guardianship,
    Holiday,
    Municipality,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    StaffRole,
)

Role = StaffRole.Role


def installation_name() -> str:
    """The name a message from this installation is signed with: the municipality's, when
    it serves one (as it usually does), else "kontaktbok"."""
    names = list(Municipality.objects.order_by("pk").values_list("name", flat=True)[:2])
    return names[0] if len(names) == 1 else "kontaktbok"


def _calendar(school: School) -> list[SchoolYear]:
    """The school's years with their holidays, read once per school object: a request or a
    task asks about the same school's days several times."""
    years = school.__dict__.get("_calendar")
    if years is None:
        years = list(
            SchoolYear.objects.filter(school=school)
            .order_by("starts_on")
            .prefetch_related("holidays")
        )
        school.__dict__["_calendar"] = years
    return years


def current_school_year(school: School, today: dt.date | None = None) -> SchoolYear | None:
    """The school year running today, or the next one during the summer holiday."""
    today = today or clock.today()
    return next((year for year in _calendar(school) if year.ends_on >= today), None)


def school_year_if_school_day(school: School, day: dt.date) -> SchoolYear | None:
    """The school year if ``day`` is one of its school days, else None."""
    year = current_school_year(school, day)
    return year if year and school_days(year, day, day) else None


def school_days(year: SchoolYear, start: dt.date, end: dt.date) -> list[dt.date]:
    """The school days between ``start`` and ``end`` (inclusive): weekdays of the school
    year that fall in no holiday."""
    start = max(start, year.starts_on)
    end = min(end, year.ends_on)
    holidays = [h for h in year.holidays.all() if h.starts_on <= end and h.ends_on >= start]
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and not any(h.starts_on <= day <= h.ends_on for h in holidays):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _contact_teacher_roles() -> Prefetch:
    return Prefetch(
        "staff_roles",
        queryset=StaffRole.objects.in_force()
        .filter(role=Role.CONTACT_TEACHER)
        .select_related("member__user"),
        to_attr="contact_teacher_roles",
    )


def contact_teachers(groups: list[Group]) -> list[Any]:
    """The contact teachers of groups fetched with the contact-teacher prefetch."""
    return [role.member for group in groups for role in getattr(group, "contact_teacher_roles", [])]


@dataclass(frozen=True)
class Child:
    pupil: Pupil
    school: School
    main_group: Group | None

    @property
    def contact_teachers(self) -> list[Any]:
        return contact_teachers([self.main_group] if self.main_group else [])


def guardian_children(*, actor: Any) -> list[Child]:
    """The actor's own children with their class and contact teacher."""
    classes = Group.objects.filter(access.current_year_q(), kind=Group.Kind.CLASS).prefetch_related(
        _contact_teacher_roles()
    )
    pupils = (
        access.guardian_pupils(actor)
        .select_related("school")
        .prefetch_related(Prefetch("groups", queryset=classes, to_attr="current_classes"))
        .order_by("date_of_birth")
    )
    return [
        Child(pupil=p, school=p.school, main_group=next(iter(p.current_classes), None))
        for p in pupils
    ]


def staff_groups(*, actor: Any) -> QuerySet[Group]:
    """The groups where the actor holds a role of their own, with pupils and contact teacher."""
    roles = access.roles_of(actor)
    return (
        Group.objects.filter(access.current_year_q(), pk__in=list(roles.group_roles))
        .select_related("school")
        .prefetch_related(
            Prefetch("pupils", queryset=Pupil.objects.order_by("last_name", "first_name")),
            _contact_teacher_roles(),
        )
    )


def school_overview(*, actor: Any, school_id: int) -> tuple[School, QuerySet[Group]]:
    """A whole school for kontor and leiing: its groups with pupil counts."""
    school = get_visible_school(actor=actor, school_id=school_id, roles=access.Role.OFFICE)
    groups = (
        Group.objects.filter(access.current_year_q(), school=school)
        .annotate(pupil_count=Count("pupils"))
        .prefetch_related(_contact_teacher_roles())
    )
    return school, groups


def get_visible_school(*, actor: Any, school_id: int, roles: str | None = None) -> School:
    """A school the actor sees whole (kontor or leiing), or 404."""
    wanted = (Role.OFFICE, Role.LEADERSHIP) if roles is None or roles == Role.OFFICE else (roles,)
    try:
        return access.staff_schools(actor, *wanted).get(pk=school_id)
    except School.DoesNotExist:
        raise Http404 from None


def get_pupil(*, actor: Any, pupil_id: int) -> Pupil:
    """A pupil the actor may see, with school and current groups, or 404."""
    try:
        return (
            access.visible_pupils(actor)
            .select_related("school")
            .prefetch_related(
                Prefetch(
                    "groups",
                    queryset=Group.objects.filter(access.current_year_q()).prefetch_related(
                        _contact_teacher_roles()
                    ),
                )
            )
            .get(pk=pupil_id)
        )
    except Pupil.DoesNotExist:
        raise Http404 from None


# Who sees the guardians' mobile numbers and e-mail, to reach them at once (the routine:
# a pupil who does not turn up is looked for by calling home).
CONTACT_DATA_ROLES = frozenset(
    {Role.CONTACT_TEACHER, Role.CLASS_TEAM, Role.OFFICE, Role.LEADERSHIP}
)


def _guardians_shown(pupil: Pupil, *, restricted_too: bool) -> QuerySet[Guardianship]:
    """Guardians with parental responsibility; a restricted guardian of a pupil with a
    protected address only when ``restricted_too``."""
    shown = pupil.guardianships.filter(parental_responsibility=True, guardian__is_active=True)
    if not restricted_too:
        shown = shown.filter(Q(restricted=False) | Q(pupil__protected_address=False))
    return shown.select_related("guardian").order_by("guardian__full_name")


def pupil_guardians(*, actor: Any, pupil: Pupil) -> list[Any]:
    """Guardians with parental responsibility, by name, shown to staff who see the pupil:
    never a restricted guardian of a pupil with a protected address."""
    if not access.roles_of(actor).is_staff_member:
        return []
    return list(_guardians_shown(pupil, restricted_too=False))


def may_reach_guardians(actor: Any, group: Group) -> bool:
    """Whether the actor sees the guardians' contact data of ``group``'s pupils (the page
    offers the link to them; ``guardian_contacts`` decides per pupil)."""
    roles = access.roles_of(actor)
    if any(roles.has_school_role(group.school_id, r) for r in (Role.OFFICE, Role.LEADERSHIP)):
        return True
    return bool(roles.group_roles.get(group.pk, frozenset()) & CONTACT_DATA_ROLES)


def guardian_contacts(
    *, actor: Any, pupil: Pupil, passed_mfa: bool, role: str | None = None
) -> list[Guardianship] | None:
    """The guardians with parental responsibility with their mobile number and e-mail, for
    the contact teacher, class team, kontor and leiing who see ``pupil`` (``role``: the
    actor's role for the pupil, if known); None for anyone else. A restricted guardian of
    a pupil with a protected address only for kontor and leiing who passed a second factor
    in this session. Each read is audited as a read of contact data."""
    role = access.pupil_role(actor, pupil) if role is None else role
    if role not in CONTACT_DATA_ROLES:
        return None
    office = role in (Role.OFFICE, Role.LEADERSHIP)
    shown = list(_guardians_shown(pupil, restricted_too=office and passed_mfa))
    audit_log(
        actor=actor,
        action="schools.guardian_contacts.read",
        obj=pupil,
        role=role,
        school_id=pupil.school_id,
        detail={"guardians": len(shown)},
    )
    return shown


def get_group(*, actor: Any, group_id: int) -> Group:
    """A group the actor works with, with its pupils, or 404."""
    try:
        return (
            access.visible_groups(actor)
            .select_related("school", "school_year")
            .prefetch_related(
                Prefetch("pupils", queryset=Pupil.objects.order_by("last_name", "first_name")),
                _contact_teacher_roles(),
            )
            .get(pk=group_id)
        )
    except Group.DoesNotExist:
        raise Http404 from None


def schools_administered(*, actor: Any) -> QuerySet[School]:
    return access.staff_schools(actor, Role.SCHOOL_ADMIN)


def get_administered_school(*, actor: Any, school_id: int) -> School:
    """A school whose settings the actor administers, or 404."""
    try:
        return schools_administered(actor=actor).get(pk=school_id)
    except School.DoesNotExist:
        raise Http404 from None


def absence_types(school: School) -> QuerySet[AbsenceType]:
    return AbsenceType.objects.filter(school=school)


def get_absence_type(school: School, type_id: int) -> AbsenceType:
    """One of the school's absence types (the school already scoped to the actor), or 404."""
    found = absence_types(school).filter(pk=type_id).first()
    if found is None:
        raise Http404
    return found


def get_holiday(school: School, holiday_id: int) -> Holiday:
    """A holiday of the school (already scoped to the actor), or 404."""
    found = Holiday.objects.filter(school_year__school=school, pk=holiday_id).first()
    if found is None:
        raise Http404
    return found


def staff_working_hours(*, user: Any) -> tuple[dt.time, dt.time] | None:
    """A staff member's working hours (their own, else their school's); None for others."""
    return staff_working_hours_of({user.pk}).get(user.pk)


def staff_working_hours_of(user_ids: set[int]) -> dict[int, tuple[dt.time, dt.time]]:
    """The working hours of those of ``user_ids`` who are staff (at their first school)."""
    hours: dict[int, tuple[dt.time, dt.time]] = {}
    members = StaffMember.objects.filter(user_id__in=user_ids).select_related("school")
    for member in members.order_by("-pk"):  # the first membership is written last
        hours[member.user_id] = (
            member.work_start or member.school.staff_work_start,
            member.work_end or member.school.staff_work_end,
        )
    return hours


# --- recipients of the school's own messages (background work; no acting user) ---------


def guardians_to_inform(pupil: Pupil) -> list[Any]:
    """The guardians the school tells about ``pupil``: parental responsibility, allowed to
    receive information, an active account, and never a restricted one of a pupil with a
    protected address."""
    guardianships = Guardianship.objects.to_inform().filter(pupil=pupil)
    return [g.guardian for g in guardianships.select_related("guardian").order_by("pk")]


def staff_holding(
    school_id: int, roles: list[str], group_ids: list[int] | None = None
) -> list[Any]:
    """Active users holding one of ``roles`` at the school (group roles: in ``group_ids``)."""
    q = Q(role__in=[r for r in roles if r not in StaffRole.GROUP_ROLES], group__isnull=True)
    group_roles = [r for r in roles if r in StaffRole.GROUP_ROLES]
    if group_roles and group_ids:
        q |= Q(role__in=group_roles, group_id__in=group_ids)
    rows = (
        StaffRole.objects.in_force()
        .filter(q, member__school_id=school_id, member__user__is_active=True)
        .select_related("member__user")
    )
    users: dict[int, Any] = {}
    for row in rows.order_by("pk"):
        users.setdefault(row.member.user_id, row.member.user)
    return list(users.values())


# The reads a guardian is shown, by kind: (audit action, what was read).
READ_KINDS = {
    "schools.pupil.read": _("the pupil's page"),
    "schools.guardian_contacts.read": _("the guardians' contact data"),
    "absence.history.read": _("absence, with type and comment"),
    "absence.lookup.read": _("a missing-pupil case"),
    "leave.case.read": _("a leave case"),
    "messaging.thread.read": _("messages"),
    "relaylog.log.read": _("the relay log"),
}


@dataclass
class Read:
    at: dt.datetime
    who: str
    role: str
    school: str
    what: str


def pupil_reads(
    *, actor: Any, pupil_id: int, page: str | int | None
) -> tuple[Pupil, Any, list[Read]]:
    """Who has read what about one of the actor's children, and when, newest first: the
    page of the audit log and its reads, leaving out the actor's own reads. Staff are named when the
    municipality shows readers' names, else by role and school only."""
    pupil = (
        access.guardian_pupils(actor)
        .select_related("school__municipality")
        .filter(pk=pupil_id)
        .first()
    )
    if pupil is None:
        raise Http404
    entries = (
        AuditEntry.objects.filter(pupil_id=pupil.pk, action__in=READ_KINDS)
        .exclude(actor_id=actor.pk)
        .only("action", "actor_name", "role", "school_id", "created_at")
        .order_by("-created_at", "-id")
    )
    shown = Paginator(entries, 50).get_page(page)
    schools = dict(
        School.objects.filter(pk__in={e.school_id for e in shown}).values_list("pk", "name")
    )
    names = pupil.school.municipality.reader_names_shown
    reads = [
        Read(
            at=entry.created_at,
            who=entry.actor_name if names or entry.role == "guardian" else "",
            role=_role_label(entry.role),
            school=schools.get(entry.school_id or 0, ""),
            what=str(READ_KINDS[entry.action]),
        )
        for entry in shown
    ]
    return pupil, shown, reads


def _role_label(role: str) -> str:
    if role == "guardian":
        return str(_("guardian"))
    try:
        return str(Role(role).label)
    except ValueError:
        return role


@dataclass
class People:
    school: School
    may_edit: bool  # kontor and the school admin; leiing reads
    classes: list[Group]
    pupils: list[Pupil]  # with ``class_name``, this school year's class


def school_pupils(
    *, actor: Any, school_id: int, query: str = "", with_pupils: bool = True
) -> People:
    """The school's pupils and their class this school year, by name, for kontor, the
    school admin and leiing; ``query`` finds names containing it."""
    school, may_edit = _people_school(actor, school_id)
    classes = list(
        Group.objects.filter(access.current_year_q(), school=school, kind=Group.Kind.CLASS)
        .select_related("school_year")
        .order_by("grade", "name")
    )
    pupils = Pupil.objects.filter(school=school).annotate(
        class_name=Subquery(
            Group.objects.filter(
                access.current_year_q(), kind=Group.Kind.CLASS, pupils=OuterRef("pk")
            ).values("name")[:1]
        )
    )
    for word in query.split()[:3]:
        pupils = pupils.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return People(
        school=school,
        may_edit=may_edit,
        classes=classes,
        pupils=list(pupils.order_by("last_name", "first_name")[:500]) if with_pupils else [],
    )


def editable_pupil(*, actor: Any, pupil_id: int) -> Pupil:
    """A pupil of a school whose people the actor keeps (kontor, school admin), or 404."""
    schools = access.people_schools(actor)
    pupil = Pupil.objects.select_related("school").filter(pk=pupil_id, school__in=schools).first()
    if pupil is None:
        raise Http404
    return pupil


@dataclass
class Staff:
    school: School
    may_edit: bool
    members: list[StaffMember]  # with ``current_roles``: in force or to come, by group


def _people_school(actor: Any, school_id: int) -> tuple[School, bool]:
    """The school, if the actor keeps its people (kontor, school admin) or reads them
    (leiing), and whether they may change them; else 404."""
    roles = access.roles_of(actor)
    if not roles.has_school_role(school_id, *access.PEOPLE_ROLES, Role.LEADERSHIP):
        raise Http404
    school = School.objects.get(pk=school_id)
    return school, access.keeps_people(actor, school_id)


def _current_roles() -> Prefetch:
    """Roles not ended before today, whole-school or for a group of this school year."""
    today = clock.today()
    return Prefetch(
        "roles",
        queryset=StaffRole.objects.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today),
            Q(group__isnull=True) | access.current_year_q("group__"),
        )
        .select_related("group")
        .order_by("role", "group__name"),
        to_attr="current_roles",
    )


def school_staff(*, actor: Any, school_id: int) -> Staff:
    """The school's staff with their roles now and to come."""
    school, may_edit = _people_school(actor, school_id)
    members = list(
        StaffMember.objects.filter(school=school)
        .select_related("user")
        .prefetch_related(_current_roles())
        .order_by("user__full_name")
    )
    return Staff(school=school, may_edit=may_edit, members=members)


def editable_member(*, actor: Any, member_id: int) -> StaffMember:
    """A staff member of a school whose people the actor keeps, with their current roles."""
    schools = access.people_schools(actor)
    member = (
        StaffMember.objects.select_related("user", "school")
        .prefetch_related(_current_roles())
        .filter(pk=member_id, school__in=schools)
        .first()
    )
    if member is None:
        raise Http404
    return member


def school_groups_now(school: School) -> list[Group]:
    """The school's groups of this school year (and the next, when it is near)."""
    return list(
        Group.objects.filter(access.current_year_q(), school=school).order_by(
            "kind", "grade", "name"
        )
    )


def kept_guardianships(*, pupil: Pupil, passed_mfa: bool) -> list[Guardianship]:
    """Every guardian of a pupil, for kontor to change (``editable_pupil`` has checked the
    actor): a restricted guardian of a pupil with a protected address only with a second
    factor passed in this session."""
    shown = pupil.guardianships.all()
    if not passed_mfa:
        shown = shown.filter(Q(restricted=False) | Q(pupil__protected_address=False))
    return list(shown.select_related("guardian").order_by("guardian__full_name"))


def editable_guardianship(*, actor: Any, guardianship_id: int) -> Guardianship:
    schools = access.people_schools(actor)
    found = (
        Guardianship.objects.select_related("guardian", "pupil__school")
        .filter(pk=guardianship_id, pupil__school__in=schools)
        .first()
    )
    if found is None:
        raise Http404
    return found
