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

With ``--past-years`` (``run.py --retention``) each school also has the two school years
before, 2024–2025 and 2025–2026, with their classes (the same pupils, a grade lower each
year back), as a system in its third year on which the retention run has never run: per
year the marks of as many school days as the current term has (the autumn term), and over
the whole year guardians' reports (2 % of the pupil-days), closed lookup cases (1 %, one
in a hundred escalated) with the guardian's alert and its e-mail and SMS deliveries, and a
thread with the contact teacher for every fourth pupil. On the benchmark's day the reports,
lookups and alerts of both years are due, and the marks and threads of 2024–2025; the
current year's rows are not. These rows are written with ``INSERT … SELECT`` (their
foreign keys hold by construction; their triggers are skipped for the speed).
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
# The school years before the current one: name, first and last day, autumn holiday.
PAST_YEARS = (
    (
        "2024–2025",
        dt.date(2024, 8, 19),
        dt.date(2025, 6, 20),
        (dt.date(2024, 9, 30), dt.date(2024, 10, 4)),
    ),
    (
        "2025–2026",
        dt.date(2025, 8, 18),
        dt.date(2026, 6, 19),
        (dt.date(2025, 9, 29), dt.date(2025, 10, 3)),
    ),
)
REPORT_SHARE, LOOKUP_SHARE, ESCALATED_SHARE = 0.02, 0.01, 0.01  # of a past year's pupil-days
CLASS_SIZE = 25
ABSENT_SHARE = 0.05  # of the history's marks


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontaktbok.settings")
    import django

    django.setup()


def _school_days(
    start: dt.date, end: dt.date, holiday: tuple[dt.date, dt.date] = AUTUMN_HOLIDAY
) -> list[dt.date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and not (holiday[0] <= day <= holiday[1]):
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


def _past_years(
    school_rows: list[tuple[Any, Any]],
    roll: list[tuple[int, Any, int, int, int]],
    marked_days: int,
    seed: int,
) -> dict[str, int]:
    """The school years before the current one, with their classes and records (see the
    module's docstring). ``roll``: per pupil (id, current class, a guardian's and the
    contact teacher's user ids, the school's sick type); returns the rows made per kind."""
    from django.db import connection, transaction

    from kontaktbok.absence.models import AttendanceMark, LookupCase
    from kontaktbok.schools import services
    from kontaktbok.schools.models import Group

    statuses = AttendanceMark.Status
    made = dict.fromkeys(
        ["marks", "reports", "lookups", "notifications", "deliveries", "threads", "messages"], 0
    )
    for back, (name, starts_on, ends_on, holiday) in enumerate(reversed(PAST_YEARS), start=1):
        years = {
            school.pk: services.school_year_create(
                actor=None, school=school, name=name, starts_on=starts_on, ends_on=ends_on,
                holidays=[("Haustferie", *holiday)],
            )
            for school, _year in school_rows
        }  # fmt: skip
        current = {group.pk: group for _pupil, group, *_ids in roll}
        past = Group.objects.bulk_create(
            [
                Group(
                    school_id=g.school_id,
                    school_year=years[g.school_id],
                    name=g.name,
                    grade=max(1, (g.grade or 1) - back),
                )
                for g in current.values()
            ],
            batch_size=2000,
        )
        past_of = {g.pk: p.pk for g, p in zip(current.values(), past, strict=True)}
        Group.pupils.through.objects.bulk_create(
            [Group.pupils.through(group_id=past_of[g.pk], pupil_id=p) for p, g, *_ids in roll],
            batch_size=10000,
        )
        days = _school_days(starts_on, ends_on, holiday)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
            cursor.execute("SELECT setseed(%s)", [1 / (seed + back)])
            cursor.execute(
                "CREATE TEMP TABLE bench_roll (pupil_id bigint, group_id bigint,"
                " school_id bigint, teacher_id bigint, guardian_id bigint, sick_id bigint)"
                " ON COMMIT DROP"
            )
            cursor.execute(
                "INSERT INTO bench_roll SELECT * FROM unnest(%s::bigint[], %s::bigint[],"
                " %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])",
                [
                    [p for p, *_rest in roll],
                    [past_of[g.pk] for _p, g, *_rest in roll],
                    [g.school_id for _p, g, *_rest in roll],
                    [t for *_rest, t, _s in roll],
                    [u for _p, _g, u, _t, _s in roll],
                    [s for *_rest, s in roll],
                ],
            )
            # The autumn term's marks: as many school days as the current year has had.
            cursor.execute(
                "INSERT INTO absence_attendancemark (pupil_id, group_id, date, status,"
                " late_minutes, staff_reason, registered_by_id, registered_at)"
                " SELECT pupil_id, group_id, day, CASE WHEN x < %(absent)s THEN %(a)s"
                " WHEN x < %(absent)s + 0.01 THEN %(l)s ELSE %(p)s END,"
                " CASE WHEN x >= %(absent)s AND x < %(absent)s + 0.01 THEN 10 END, '',"
                " teacher_id, (day + time '08:40') AT TIME ZONE 'Europe/Oslo'"
                " FROM (SELECT r.*, d.day, random() AS x FROM bench_roll r"
                " CROSS JOIN unnest(%(days)s::date[]) AS d(day)) s",
                {"absent": ABSENT_SHARE, "a": statuses.ABSENT, "l": statuses.LATE,
                 "p": statuses.PRESENT, "days": days[:marked_days]},
            )  # fmt: skip
            made["marks"] += cursor.rowcount
            pupil_days = (
                "SELECT r.*, d.day, (d.day + time '07:30') AT TIME ZONE 'Europe/Oslo' AS t,"
                " random() AS x FROM bench_roll r CROSS JOIN unnest(%(days)s::date[]) AS d(day)"
            )
            cursor.execute(
                "INSERT INTO absence_absencereport (pupil_id, school_id, reported_by_id,"  # noqa: S608
                " absence_type_id, start_date, end_date, whole_day, comment, late, status,"
                " created_at, updated_at)"
                " SELECT pupil_id, school_id, guardian_id, sick_id, day, day, true, '', false,"
                f" 'active', t, t FROM ({pupil_days}) s WHERE x < %(share)s",
                {"days": days, "share": REPORT_SHARE},
            )
            made["reports"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO absence_lookupcase (pupil_id, school_id, group_id, date, status,"  # noqa: S608
                " registered_by_id, registered_at, opened_at, escalate_at, escalated_at, answer,"
                " answer_text, answered_by_id, answered_at, outcome, outcome_text,"
                " closed_by_id, closed_at)"
                " SELECT pupil_id, school_id, group_id, day, %(closed)s, teacher_id,"
                " t + interval '70 minutes', t + interval '71 minutes',"
                " t + interval '101 minutes',"
                " CASE WHEN x < %(escalated)s THEN t + interval '101 minutes' END,"
                " %(answer)s, '', guardian_id, t + interval '80 minutes', %(outcome)s, '',"
                " teacher_id, t + interval '3 hours'"
                f" FROM ({pupil_days}) s WHERE x < %(share)s",
                {"days": days, "share": LOOKUP_SHARE, "escalated": LOOKUP_SHARE * ESCALATED_SHARE,
                 "closed": LookupCase.Status.CLOSED, "answer": LookupCase.Answer.HOME_SICK,
                 "outcome": LookupCase.Outcome.HOME_SICK},
            )  # fmt: skip
            made["lookups"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO notifications_notification (recipient_id, kind, urgent, payload,"
                " url, dedup_key, school_id, created_at)"
                " SELECT r.guardian_id, 'absence.lookup.alert', true, '{}', '',"
                " 'lookup:' || c.id, c.school_id, c.opened_at"
                " FROM absence_lookupcase c JOIN bench_roll r USING (pupil_id)"
                " WHERE c.date BETWEEN %s AND %s",
                [starts_on, ends_on],
            )
            made["notifications"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO notifications_delivery (notification_id, channel, target, status,"
                " attempts, due_at, claimed_at, delivered_at, provider_answer, queued_at,"
                " in_digest)"
                " SELECT n.id, c.channel, 'guardian@bench.test', 'delivered', 1, n.created_at,"
                " n.created_at, n.created_at + interval '2 seconds', '', n.created_at, false"
                " FROM notifications_notification n"
                " CROSS JOIN (VALUES ('email'), ('sms')) AS c(channel)"
                " WHERE n.kind = 'absence.lookup.alert' AND n.created_at >= %s"
                " AND n.created_at < %s",
                [starts_on, ends_on + dt.timedelta(days=1)],
            )
            made["deliveries"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO messaging_thread (school_id, pupil_id, subject, sensitive,"
                " created_by_id, created_at, last_message_at)"
                " SELECT school_id, pupil_id, 'Spørsmål', false, guardian_id,"
                " (d + time '15:00') AT TIME ZONE 'Europe/Oslo',"
                " (d + time '17:00') AT TIME ZONE 'Europe/Oslo'"
                " FROM (SELECT r.*, (%(days)s::date[])[1 + r.pupil_id %% %(n)s] AS d"
                " FROM bench_roll r WHERE r.pupil_id %% 4 = 0) s",
                {"days": days, "n": len(days)},
            )
            made["threads"] += cursor.rowcount
            bounds = {"start": starts_on, "end": ends_on + dt.timedelta(days=1)}
            cursor.execute(
                "INSERT INTO messaging_participant (thread_id, user_id, side, role, joined_at,"
                " last_read_at) SELECT t.id, p.user_id, p.side, p.role, t.created_at,"
                " t.last_message_at FROM messaging_thread t JOIN bench_roll r USING (pupil_id)"
                " CROSS JOIN LATERAL (VALUES (r.guardian_id, 'guardian', 'guardian'),"
                " (r.teacher_id, 'staff', 'contact_teacher')) AS p(user_id, side, role)"
                " WHERE t.created_at >= %(start)s AND t.created_at < %(end)s",
                bounds,
            )
            cursor.execute(
                "INSERT INTO messaging_message (thread_id, author_id, body, created_at)"
                " SELECT t.id, CASE WHEN k = 1 THEN r.teacher_id ELSE r.guardian_id END,"
                " 'Melding ' || k, t.created_at + k * interval '1 hour'"
                " FROM messaging_thread t JOIN bench_roll r USING (pupil_id)"
                " CROSS JOIN generate_series(0, 2) AS k"
                " WHERE t.created_at >= %(start)s AND t.created_at < %(end)s",
                bounds,
            )
            made["messages"] += cursor.rowcount
    return made


def generate(
    *, schools: int, pupils: int, past_years: bool = False, seed: int = 8
) -> dict[str, Any]:
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
    past: dict[str, int] = {}
    if past_years:
        sick = {school.pk: school.absence_types.get(code="sick").pk for school, _y in school_rows}
        roll = [
            (pupil.pk, group, users[own[0]].pk, teacher_of[group.pk], sick[pupil.school_id])
            for pupil, group, own in zip(pupils_made, pupil_group, guardian_of, strict=True)
        ]
        past = _past_years(school_rows, roll, len(days), seed)
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
        "past_years": past,
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
    parser.add_argument(
        "--past-years", action="store_true", help="also the two school years before, with records"
    )
    args = parser.parse_args(argv)
    _setup()
    result = generate(schools=args.schools, pupils=args.pupils, past_years=args.past_years)
    if args.out:
        args.out.write_text(json.dumps(result))
    summary = {k: v for k, v in result.items() if not isinstance(v, list | dict)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
