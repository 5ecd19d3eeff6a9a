"""A municipality for the morning-peak benchmark, bulk-created in PostgreSQL.

    .venv/bin/python bench/morning/generate.py [--schools 20] [--pupils 6000]

Run in a process configured like the server (``KONTAKTBOK_DATABASE_URL``,
``KONTAKTBOK_DATA_DIR``); ``bench/morning/run.py`` calls it. The database is emptied
(``flush``) first, so its name must contain "bench".

Schools and school years (with the autumn holiday) are made by the services, as the
application makes them; the many rows (users, pupils, guardianships, groups, staff, a term
of attendance) by ``bulk_create``, keeping the invariants the services keep: identity
numbers stored only as keyed digests, one guardian with parental responsibility per pupil
(a second one for every other pupil), classes of grades 1–10 of about 25 pupils with a
contact teacher each, one SFO group per school for grades 1–4, kontor and leiing at every
school. Every school looks for missing pupils from 07:00, so a pupil registered absent in
the benchmark's morning (08:00 on Tuesday 24 November 2026) opens a case at once.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

TODAY = dt.date(2026, 11, 24)  # the benchmark's school day (a Tuesday)
YEAR_START, YEAR_END = dt.date(2026, 8, 17), dt.date(2027, 6, 18)
AUTUMN_HOLIDAY = (dt.date(2026, 9, 28), dt.date(2026, 10, 2))
CLASS_SIZE = 25
ABSENT_SHARE = 0.05  # of the history's marks


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontaktbok.settings")
    import django

    django.setup()


def _school_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and not (AUTUMN_HOLIDAY[0] <= day <= AUTUMN_HOLIDAY[1]):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class Nins:
    """Distinct synthetic identity numbers (month + 80, valid control digits)."""

    def __init__(self) -> None:
        from kontaktbok.schools.identity import make_test_nin

        self.make = make_test_nin
        self.used: set[str] = set()

    def new(self, born: dt.date) -> str:
        ddmmyy = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}"
        for individual in range(0, 1000):
            nin = self.make(ddmmyy, individual)
            if nin and nin not in self.used:
                self.used.add(nin)
                return nin
        raise RuntimeError(f"no identity number left for {born}")


def generate(*, schools: int, pupils: int, seed: int = 8) -> dict[str, Any]:
    """Create the municipality; return what the load generator needs (ids per role)."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from kontaktbok.absence.models import AttendanceMark
    from kontaktbok.schools import services
    from kontaktbok.schools.identity import nin_digest
    from kontaktbok.schools.models import (
        Group,
        Guardianship,
        Pupil,
        School,
        StaffMember,
        StaffRole,
    )

    if "bench" not in connection.settings_dict["NAME"]:
        raise SystemExit("refusing to empty a database whose name has no 'bench' in it")
    User = get_user_model()
    rng = random.Random(seed)
    nins = Nins()
    started = time.monotonic()
    call_command("flush", "--no-input", verbosity=0)
    now = timezone.now()

    municipality = services.municipality_create(
        actor=None, name="Benchvik kommune", org_number="999000001"
    )
    school_rows = []
    for s in range(schools):
        school = services.school_create(
            actor=None,
            municipality=municipality,
            name=f"Benchvik skule {s + 1}",
            org_number=f"{998000000 + s}",
            lookup_time_primary=dt.time(7, 0),
            lookup_time_secondary=dt.time(7, 0),
        )
        year = services.school_year_create(
            actor=None,
            school=school,
            name="2026–2027",
            starts_on=YEAR_START,
            ends_on=YEAR_END,
            holidays=[("Haustferie", *AUTUMN_HOLIDAY)],
        )
        school_rows.append((school, year))

    # Classes: ~25 pupils, grades 1–10 in turn; one SFO group (grades 1–4) per school.
    per_school = [pupils // schools + (1 if i < pupils % schools else 0) for i in range(schools)]
    groups: list[Group] = []
    for (school, year), count in zip(school_rows, per_school, strict=True):
        classes = max(1, math.ceil(count / CLASS_SIZE))
        for c in range(classes):
            grade = 1 + c % 10
            letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[c // 10]
            groups.append(
                Group(school=school, school_year=year, name=f"{grade}{letter}", grade=grade)
            )
        groups.append(Group(school=school, school_year=year, name="SFO", kind=Group.Kind.SFO))
    groups = Group.objects.bulk_create(groups, batch_size=2000)
    classes_of: dict[int, list[Group]] = {}
    sfo_of: dict[int, Group] = {}
    for group in groups:
        if group.kind == Group.Kind.SFO:
            sfo_of[group.school_id] = group
        else:
            classes_of.setdefault(group.school_id, []).append(group)

    # Pupils, spread over their school's classes, born in the year of their grade.
    pupil_rows: list[Pupil] = []
    pupil_group: list[Group] = []
    for (school, _year), count in zip(school_rows, per_school, strict=True):
        classes = classes_of[school.pk]
        for i in range(count):
            group = classes[i % len(classes)]
            born = dt.date(2020 - (group.grade or 1), 1, 1) + dt.timedelta(days=(i * 7) % 365)
            pupil_rows.append(
                Pupil(
                    school=school,
                    first_name=f"Elev{len(pupil_rows) + 1}",
                    last_name=f"Benchsen{i}",
                    date_of_birth=born,
                    nin_digest=nin_digest(nins.new(born)),
                )
            )
            pupil_group.append(group)
    pupils_made = Pupil.objects.bulk_create(pupil_rows, batch_size=5000)
    through = Group.pupils.through
    members = [
        through(group_id=g.pk, pupil_id=p.pk) for p, g in zip(pupils_made, pupil_group, strict=True)
    ]
    members += [
        through(group_id=sfo_of[g.school_id].pk, pupil_id=p.pk)
        for p, g in zip(pupils_made, pupil_group, strict=True)
        if (g.grade or 0) <= 4 and p.pk % 2 == 0
    ]
    through.objects.bulk_create(members, batch_size=10000)

    # Guardians: one per pupil, a second for every other pupil. Passwords are unusable: the
    # benchmark signs people in by writing their sessions.
    users: list[Any] = []
    guardian_of: list[list[int]] = []
    for n in range(len(pupils_made)):
        own = []
        for k in range(1 if n % 2 else 2):
            born = dt.date(1970, 1, 1) + dt.timedelta(days=(n * 37 + k * 181) % 7300)
            user = User(
                email=f"guardian{n + 1}-{k + 1}@bench.test",
                full_name=f"Føresett {n + 1}-{k + 1}",
                phone=f"+47 9{(n * 2 + k) % 10_000_000:07d}",
                nin_digest=nin_digest(nins.new(born)),
                date_joined=now,
            )
            user.set_unusable_password()
            users.append(user)
            own.append(len(users) - 1)
        guardian_of.append(own)
    staff_users: list[tuple[School, str, Group | None]] = []
    for school, _year in school_rows:
        staff_users += [
            (school, StaffRole.Role.OFFICE, None),
            (school, StaffRole.Role.LEADERSHIP, None),
        ]
        staff_users += [(school, StaffRole.Role.CONTACT_TEACHER, g) for g in classes_of[school.pk]]
        staff_users.append((school, StaffRole.Role.SFO_LEADER, None))
    first_staff = len(users)
    for k, (_school, role, _group) in enumerate(staff_users):
        user = User(
            email=f"staff{k + 1}@bench.test",
            full_name=f"Tilsett {k + 1} ({role})",
            date_joined=now,
        )
        user.set_unusable_password()
        users.append(user)
    users = User.objects.bulk_create(users, batch_size=5000)
    Guardianship.objects.bulk_create(
        [
            Guardianship(guardian_id=users[u].pk, pupil_id=pupil.pk)
            for pupil, own in zip(pupils_made, guardian_of, strict=True)
            for u in own
        ],
        batch_size=10000,
    )
    members_made = StaffMember.objects.bulk_create(
        [
            StaffMember(
                school=school, user_id=users[first_staff + k].pk, work_phone="+47 55 00 00 00"
            )
            for k, (school, _role, _group) in enumerate(staff_users)
        ],
        batch_size=5000,
    )
    StaffRole.objects.bulk_create(
        [
            StaffRole(member=member, role=role, group=group)
            for member, (_school, role, group) in zip(members_made, staff_users, strict=True)
        ],
        batch_size=5000,
    )

    # Kontor and leiing have a second factor, as they must.
    for k, (_school, role, _group) in enumerate(staff_users):
        if role in (StaffRole.Role.OFFICE, StaffRole.Role.LEADERSHIP):
            TOTP.activate(users[first_staff + k], "JBSWY3DPEHPK3PXPBENCHKEY")

    # A term of attendance: every class registered every school day until yesterday, with
    # about 5 % of the marks absent (some late).
    teacher_of = {
        group.pk: users[first_staff + k].pk
        for k, (_school, role, group) in enumerate(staff_users)
        if role == StaffRole.Role.CONTACT_TEACHER and group is not None
    }
    days = _school_days(YEAR_START, TODAY - dt.timedelta(days=1))
    marks = 0
    batch: list[AttendanceMark] = []
    statuses = AttendanceMark.Status
    for day in days:
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 40)))
        for pupil, group in zip(pupils_made, pupil_group, strict=True):
            roll = rng.random()
            status = statuses.PRESENT
            late = None
            if roll < ABSENT_SHARE:
                status = statuses.ABSENT
            elif roll < ABSENT_SHARE + 0.01:
                status, late = statuses.LATE, 10
            batch.append(
                AttendanceMark(
                    pupil_id=pupil.pk,
                    group_id=group.pk,
                    date=day,
                    status=status,
                    late_minutes=late,
                    registered_by_id=teacher_of[group.pk],
                    registered_at=at,
                )
            )
            if len(batch) >= 20000:
                AttendanceMark.objects.bulk_create(batch)
                marks += len(batch)
                batch = []
    AttendanceMark.objects.bulk_create(batch)
    marks += len(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    guardians = [
        {"user": users[own[0]].pk, "pupil": pupil.pk, "school": pupil.school_id}
        for pupil, own in zip(pupils_made, guardian_of, strict=True)
    ]
    pupils_of: dict[int, list[int]] = {}
    for pupil, group in zip(pupils_made, pupil_group, strict=True):
        pupils_of.setdefault(group.pk, []).append(pupil.pk)
    teachers = [
        {"user": teacher_of[g.pk], "group": g.pk, "school": g.school_id, "pupils": pupils_of[g.pk]}
        for gs in classes_of.values()
        for g in gs
    ]
    offices = [
        {"user": users[first_staff + k].pk, "school": school.pk}
        for k, (school, role, _g) in enumerate(staff_users)
        if role == StaffRole.Role.OFFICE
    ]
    return {
        "schools": schools,
        "pupils": len(pupils_made),
        "guardians": sum(len(own) for own in guardian_of),
        "staff": len(staff_users),
        "groups": len(groups),
        "attendance_marks": marks,
        "school_days_of_history": len(days),
        "seconds": round(time.monotonic() - started, 1),
        "guardian_sample": guardians,
        "teachers": teachers,
        "offices": offices,
        "absence_type_sick": {
            school.pk: school.absence_types.get(code="sick").pk for school, _y in school_rows
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=6000)
    parser.add_argument("--out", type=Path, help="write the ids for the load generator here")
    args = parser.parse_args(argv)
    _setup()
    result = generate(schools=args.schools, pupils=args.pupils)
    if args.out:
        args.out.write_text(json.dumps(result))
    summary = {k: v for k, v in result.items() if not isinstance(v, list | dict)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
