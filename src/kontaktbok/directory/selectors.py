"""Reads of the staff directory, always scoped by the acting user.

A guardian sees the contacts of their own children only (another family's child is 404);
staff see the directory of the schools where they work; the school admin sees every entry,
also those not shown to guardians.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q
from django.http import Http404

from kontaktbok.directory.models import DirectoryEntry
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Group, Pupil, School, StaffMember, StaffRole

Role = StaffRole.Role

# The roles a guardian may call, in the order they are shown (the routine's list).
DIRECTORY_ROLES: tuple[str, ...] = (
    Role.CONTACT_TEACHER,
    Role.ADVISOR,
    Role.SOCIAL_TEACHER,
    Role.HEAD_OF_STAGE,
    Role.OFFICE,
    Role.SFO_LEADER,
    Role.LEADERSHIP,
)
_ORDER = {role: position for position, role in enumerate(DIRECTORY_ROLES)}
TEAMS_CALL_URL = "https://teams.microsoft.com/l/call/0/0"


def tel_link(phone: str) -> str:
    """A ``tel:`` link to a work number (spaces removed), or '' without one."""
    number = "".join(phone.split())
    return f"tel:{number}" if number else ""


def teams_link(address: str) -> str:
    """A Teams call link to a work account, or '' without one."""
    return f"{TEAMS_CALL_URL}?{urlencode({'users': address})}" if address else ""


def entry_of(member: StaffMember) -> DirectoryEntry | None:
    """The member's directory entry (fetched with ``select_related``), or None."""
    try:
        return member.directory_entry
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class Contact:
    """One person in a contact list: name, roles, work phone, Teams, office hours."""

    member_id: int
    name: str
    roles: tuple[str, ...]
    role_label: str
    title: str
    work_phone: str
    teams_address: str
    office_hours: str
    listed: bool = True
    grade_from: int | None = None
    grade_to: int | None = None
    groups: tuple[str, ...] = ()

    @property
    def tel_link(self) -> str:
        return tel_link(self.work_phone)

    @property
    def teams_link(self) -> str:
        return teams_link(self.teams_address)

    @property
    def description(self) -> str:
        """The role, with the title when it adds something ("leiing · Rektor"); a title that
        already names the role stands alone ("Hovudstegsleiar 1.–7. trinn")."""
        if not self.title:
            return self.role_label
        if self.role_label and self.role_label.casefold() not in self.title.casefold():
            return f"{self.role_label} · {self.title}"
        return self.title

    @property
    def grades(self) -> tuple[int, int] | None:
        """The grades this person is responsible for, unless the description already names
        them ("Hovudstegsleiar 1.–7. trinn" is not followed by ", grades 1–7")."""
        if self.grade_from is None or self.grade_to is None:
            return None
        named = rf"\b{self.grade_from}\.?\s*[–-]\s*{self.grade_to}\b"
        return None if re.search(named, self.description) else (self.grade_from, self.grade_to)

    @property
    def order(self) -> int:
        return min(_ORDER.get(role, len(_ORDER)) for role in self.roles)


def _contact(member: StaffMember, roles: list[str], groups: list[str] | None = None) -> Contact:
    held = tuple(sorted(set(roles), key=lambda role: _ORDER.get(role, len(_ORDER))))
    label = ", ".join(str(Role(role).label) for role in held)
    entry = entry_of(member)
    title = member.title if member.title.casefold() != label.casefold() else ""
    return Contact(
        member_id=member.pk,
        name=member.user.get_full_name(),
        roles=held,
        role_label=label,
        title=title,
        work_phone=member.work_phone,
        teams_address=member.teams_address,
        office_hours=entry.office_hours if entry else "",
        listed=entry.listed if entry else True,
        grade_from=entry.grade_from if entry else None,
        grade_to=entry.grade_to if entry else None,
        groups=tuple(sorted(set(groups or []))),
    )


@dataclass(frozen=True)
class ChildContacts:
    pupil: Pupil
    school: School
    main_group: Group | None
    contacts: list[Contact]


def child_contacts(*, actor: Any, pupil_id: int) -> ChildContacts:
    """The people a guardian may call about their child, in the routine's order: the
    contact teacher(s) of the child's class this year, rådgjevar, sosiallærar, the
    hovudstegsleiar of the child's grade, kontor, the SFO-leiar (children in SFO only) and
    leiinga. A role held for one group is shown only to that group's pupils. Three queries,
    however many staff the school has."""
    pupil = (
        access.guardian_pupils(actor)
        .select_related("school")
        .prefetch_related(
            Prefetch(
                "groups",
                queryset=Group.objects.filter(access.current_year_q()),
                to_attr="current_groups",
            )
        )
        .filter(pk=pupil_id)
        .first()
    )
    if pupil is None:
        raise Http404
    groups: list[Group] = pupil.current_groups
    classes = [g for g in groups if g.kind == Group.Kind.CLASS]
    grade = next((g.grade for g in classes if g.grade is not None), None)
    in_sfo = any(g.kind == Group.Kind.SFO for g in groups)
    class_ids = {g.pk for g in classes}
    rows = (
        StaffRole.objects.in_force()
        .filter(
            Q(group__isnull=True) | Q(group_id__in=[g.pk for g in groups]),
            member__school_id=pupil.school_id,
            member__user__is_active=True,
            role__in=DIRECTORY_ROLES,
        )
        .select_related("member__user", "member__directory_entry")
        .order_by("pk")
    )
    members: dict[int, StaffMember] = {}
    held: dict[int, list[str]] = {}
    for row in rows:
        if row.role == Role.CONTACT_TEACHER and row.group_id not in class_ids:
            continue
        if row.role == Role.SFO_LEADER and row.group_id is None and not in_sfo:
            continue
        entry = entry_of(row.member)
        if entry is not None and not entry.listed:
            continue
        if row.role != Role.CONTACT_TEACHER and entry is not None and not entry.covers_grade(grade):
            continue
        members[row.member_id] = row.member
        held.setdefault(row.member_id, []).append(row.role)
    contacts = [_contact(members[member_id], roles) for member_id, roles in held.items()]
    contacts.sort(key=lambda c: (c.order, c.name))
    return ChildContacts(
        pupil=pupil,
        school=pupil.school,
        main_group=next(iter(classes), None),
        contacts=contacts,
    )


@dataclass(frozen=True)
class SchoolDirectory:
    school: School
    may_edit: bool
    contacts: list[Contact]


def school_directory(*, actor: Any, school_id: int) -> SchoolDirectory:
    """The directory of a school where the actor works: everyone with a role guardians may
    call. The school admin also sees those not shown to guardians. Constant queries."""
    roles = access.roles_of(actor)
    if school_id not in roles.school_roles:
        raise Http404
    school = School.objects.filter(pk=school_id).first()
    if school is None:
        raise Http404
    may_edit = roles.has_school_role(school_id, Role.SCHOOL_ADMIN)
    current = Group.objects.filter(access.current_year_q())
    members = (
        StaffMember.objects.filter(school=school, user__is_active=True)
        .select_related("user", "directory_entry")
        .prefetch_related(
            Prefetch(
                "roles",
                queryset=StaffRole.objects.in_force()
                .filter(Q(group__isnull=True) | Q(group__in=current), role__in=DIRECTORY_ROLES)
                .select_related("group"),
                to_attr="directory_roles",
            )
        )
        .order_by("user__full_name", "pk")
    )
    contacts = []
    for member in members:
        member_roles = member.directory_roles
        if not member_roles:
            continue
        contact = _contact(
            member,
            [r.role for r in member_roles],
            [r.group.name for r in member_roles if r.group is not None],
        )
        if contact.listed or may_edit:
            contacts.append(contact)
    return SchoolDirectory(school=school, may_edit=may_edit, contacts=contacts)


def editable_member(*, actor: Any, school_id: int, member_id: int) -> StaffMember:
    """A staff member of a school the actor administers, with the directory entry, or 404."""
    school = school_selectors.get_administered_school(actor=actor, school_id=school_id)
    member = (
        StaffMember.objects.filter(school=school, pk=member_id)
        .select_related("school", "user", "directory_entry")
        .first()
    )
    if member is None:
        raise Http404
    return member


def member_contact(member: StaffMember) -> Contact:
    """The directory view of one staff member (already scoped by the caller)."""
    roles = list(
        member.roles.in_force()
        .filter(
            Q(group__isnull=True) | Q(group__in=Group.objects.filter(access.current_year_q())),
            role__in=DIRECTORY_ROLES,
        )
        .values_list("role", "group__name")
    )
    return _contact(member, [role for role, _ in roles], [name for _, name in roles if name])
