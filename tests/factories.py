"""Test data built through the services, as the application builds it."""

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from allauth.mfa.totp.internal.auth import TOTP

from kontaktbok.accounts.services import user_create
from kontaktbok.schools import services
from kontaktbok.schools.identity import make_test_nin
from kontaktbok.schools.models import Group, Pupil, School, SchoolYear, StaffMember, StaffRole

Role = StaffRole.Role
_seq = itertools.count(1)


def nin_for(born: dt.date) -> str:
    """A synthetic identity number (month + 80) with valid control digits."""
    ddmmyy = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}"
    for individual in range(500 + next(_seq) % 400, 1000):
        nin = make_test_nin(ddmmyy, individual)
        if nin:
            return nin
    raise AssertionError("no identity number fits")


PASSWORD = "Rett-passord-123"


def user(name: str = "", **extra: Any) -> Any:
    n = next(_seq)
    extra.setdefault("password", PASSWORD)
    return user_create(
        actor=None, email=f"user{n}@example.test", full_name=name or f"User {n}", **extra
    )


def school(name: str = "Testskule") -> School:
    n = next(_seq)
    municipality = services.municipality_create(
        actor=None, name=f"Kommune {n}", org_number=f"{900000000 + n}"
    )
    return services.school_create(
        actor=None, municipality=municipality, name=name, org_number=f"{800000000 + n}"
    )


def school_year(
    school: School,
    starts_on: dt.date = dt.date(2026, 8, 17),
    ends_on: dt.date = dt.date(2027, 6, 18),
) -> SchoolYear:
    return services.school_year_create(
        actor=None,
        school=school,
        name=f"{starts_on.year}–{ends_on.year}",
        starts_on=starts_on,
        ends_on=ends_on,
        holidays=[("Haustferie", dt.date(2026, 9, 28), dt.date(2026, 10, 2))],
    )


def pupil(group: Group, first_name: str = "", protected: bool = False) -> Pupil:
    n = next(_seq)
    born = dt.date(2016, 1 + n % 12, 1 + n % 28)
    return services.pupil_create(
        actor=None,
        school=group.school,
        first_name=first_name or f"Elev{n}",
        last_name=f"Etternamn{n}",
        date_of_birth=born,
        nin=nin_for(born),
        protected_address=protected,
        groups=[group],
    )


def staff(
    school: School,
    role: str,
    group: Group | None = None,
    name: str = "",
    ends_on: dt.date | None = None,
) -> Any:
    member = staff_member(school, name)
    services.staff_role_grant(actor=None, member=member, role=role, group=group, ends_on=ends_on)
    return member.user


def staff_member(school: School, name: str = "") -> StaffMember:
    return services.staff_member_set(
        actor=None, school=school, user=user(name), work_phone="+47 400 00 000"
    )


TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # the second factor of the world's whole-school staff


@dataclass
class World:
    """Two schools; at school A two classes with families of every kind."""

    school: School
    other_school: School
    class_a: Group
    class_b: Group
    child_a: Pupil
    child_a2: Pupil
    child_b: Pupil
    protected_child: Pupil
    guardian_a: Any
    guardian_b: Any
    guardian_without_responsibility: Any
    restricted_guardian: Any
    contact_teacher_a: Any
    contact_teacher_b: Any
    office: Any
    leadership: Any
    school_admin: Any
    other_leadership: Any
    other_child: Pupil
    # Added by ``every_role`` (None otherwise): staff of school A in the roles that see
    # pupils through a group, and a teacher whose only role was last school year.
    class_team_b: Any = None  # class team of 9B
    teacher_b: Any = None  # a subject teacher of 9B
    advisor: Any = None  # rådgjevar, given the role for 9B
    social_teacher: Any = None  # sosiallærar, given the role for 9B
    sfo_leader: Any = None  # SFO-leiar, given the role for 4A
    last_year_class: Group | None = None  # 8B in 2025–2026: Aksel and Vern, now in 9B
    last_year_teacher: Any = None  # 8B's contact teacher last year; no role this year
    former_office: Any = None  # kontor until yesterday, when they left the school


def world() -> World:
    school_a = school("Skule A")
    year = school_year(school_a)
    class_a = services.group_create(actor=None, school_year=year, name="4A", grade=4)
    class_b = services.group_create(actor=None, school_year=year, name="9B", grade=9)
    child_a = pupil(class_a, "Anna")
    child_a2 = pupil(class_b, "Aksel")
    child_b = pupil(class_a, "Bror")
    protected_child = pupil(class_b, "Vern", protected=True)
    guardian_a, guardian_b = user("Guardian A"), user("Guardian B")
    no_responsibility, restricted = user("Father Without"), user("Restricted Parent")
    for child in (child_a, child_a2):
        services.guardianship_set(actor=None, guardian=guardian_a, pupil=child)
    services.guardianship_set(actor=None, guardian=guardian_b, pupil=child_b)
    services.guardianship_set(
        actor=None,
        guardian=no_responsibility,
        pupil=child_b,
        parental_responsibility=False,
        may_receive_information=False,
    )
    services.guardianship_set(actor=None, guardian=guardian_b, pupil=protected_child)
    services.guardianship_set(
        actor=None, guardian=restricted, pupil=protected_child, restricted=True
    )
    school_b = school("Skule B")
    year_b = school_year(school_b)
    class_other = services.group_create(actor=None, school_year=year_b, name="4A", grade=4)
    other_child = pupil(class_other, "Annan")
    world = World(
        school=school_a,
        other_school=school_b,
        class_a=class_a,
        class_b=class_b,
        child_a=child_a,
        child_a2=child_a2,
        child_b=child_b,
        protected_child=protected_child,
        guardian_a=guardian_a,
        guardian_b=guardian_b,
        guardian_without_responsibility=no_responsibility,
        restricted_guardian=restricted,
        contact_teacher_a=staff(school_a, Role.CONTACT_TEACHER, class_a, "Teacher A"),
        contact_teacher_b=staff(school_a, Role.CONTACT_TEACHER, class_b, "Teacher B"),
        office=staff(school_a, Role.OFFICE, name="Office"),
        leadership=staff(school_a, Role.LEADERSHIP, name="Principal"),
        school_admin=staff(school_a, Role.SCHOOL_ADMIN, name="Admin"),
        other_leadership=staff(school_b, Role.LEADERSHIP, name="Other Principal"),
        other_child=other_child,
    )
    # Kontor, leiing and the school admin must have a second factor to see anything.
    for person in (world.office, world.leadership, world.school_admin, world.other_leadership):
        TOTP.activate(person, TOTP_SECRET)
    return world


def every_role(world: World) -> World:
    """``world`` with the staff that the access matrix tries besides: 9B's class team and a
    subject teacher, a rådgjevar and a sosiallærar given the role for 9B, an SFO-leiar for
    4A, and last school year (2025–2026) with its class 8B, where Aksel and Vern were, and
    8B's contact teacher, who has no role this year; and a kontor who left the school
    yesterday (the role's last day was Monday 23 November 2026)."""
    school_a = world.school
    last_year = services.school_year_create(
        actor=None,
        school=school_a,
        name="2025–2026",
        starts_on=dt.date(2025, 8, 18),
        ends_on=dt.date(2026, 6, 19),
    )
    last_year_class = services.group_create(actor=None, school_year=last_year, name="8B", grade=8)
    # No service moves pupils from one school year's class to the next yet (the roster
    # import will): Aksel and Vern were in 8B last year.
    last_year_class.pupils.add(world.child_a2, world.protected_child)
    return dataclasses.replace(
        world,
        class_team_b=staff(school_a, Role.CLASS_TEAM, world.class_b, "Class Team B"),
        teacher_b=staff(school_a, Role.TEACHER, world.class_b, "Subject Teacher B"),
        advisor=staff(school_a, Role.ADVISOR, world.class_b, "Advisor"),
        social_teacher=staff(school_a, Role.SOCIAL_TEACHER, world.class_b, "Social Teacher"),
        sfo_leader=staff(school_a, Role.SFO_LEADER, world.class_a, "SFO Leader"),
        last_year_class=last_year_class,
        last_year_teacher=staff(
            school_a, Role.CONTACT_TEACHER, last_year_class, "Last Year Teacher"
        ),
        former_office=staff(
            school_a, Role.OFFICE, name="Former Office", ends_on=dt.date(2026, 11, 23)
        ),
    )
