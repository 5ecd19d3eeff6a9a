"""Roster import benchmark: a school of 40,000 pupils as a OneRoster 1.2 CSV export, read,
previewed and applied in PostgreSQL, then re-imported with 1 % of the pupils changed.

    .venv/bin/python bench/roster.py [--pupils 40000] [--database-url postgres://...]

Runs against PostgreSQL: ``--database-url``, else ``KONTAKTBOK_DATABASE_URL``, else
postgres://postgres@127.0.0.1:5432/kontaktbok_bench_roster. The database is created if
missing, migrated, and EMPTIED (``flush``); so its name must contain "bench" unless
``--force``. The data directory is build/bench-data/roster/.

Not measured: one municipality, school and current school year (the schools services),
and the export, made in memory as a ZIP: manifest, orgs, academicSessions, courses,
classes (homeroom classes of 25 pupils over grades 1–10, at least two per grade, and
elective groups of 30 for grades 8–10), users (pupils with an identity number in
``userIds``, one or two guardians each with e-mail and mobile number, a tenth of the pupils
sharing their guardians with a sibling, and teachers with a Feide id), roles, demographics
(birth dates) and enrollments (two teachers per homeroom, the first ``primary``; one per
elective group).

Measured (``time.perf_counter``), each through the real services with ``actor=None`` as the
nightly ``import_roster`` command calls them:

1. **preview**: ``roster.services.roster_preview`` of the export: read, compare, store;
2. **apply**: ``roster.services.roster_apply`` of that preview, in one transaction;
3. **re-import**: a second export in which 0.5 % of the pupils are renamed, 0.5 % moved
   to another class, 0.5 % have left (with their guardians), 0.5 % are new (with new
   guardians), and 1 % of the guardians have a new mobile number; preview and apply;
4. **no changes**: the second export once more; its preview must find nothing to change.

After each apply the database is compared with the export, by the source ids the import
keeps: every pupil's name, birth date and classes, every guardianship, every teacher's
group roles, the guardians' mobile numbers. The counts of every preview must be the ones
the export's changes make. Budgets: preview < 60 s, apply < 60 s, re-import preview and
apply together < 20 s. The exit status is 1 if a budget or a check fails.
"""

import argparse
import csv
import datetime as dt
import gc
import io
import os
import random
import resource
import signal
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kontaktbok_bench_roster"
DATA_DIR = ROOT / "build" / "bench-data" / "roster"
SCHOOL_ORG_NUMBER = "974000001"
CLASS_SIZE = 25
ELECTIVE_SIZE = 30
TEACHERS_PER_PUPIL = 3000 / 40000
BUDGETS = {"preview": 60.0, "apply": 60.0, "re-import": 20.0}  # seconds

FIRST_NAMES = (
    "Ola", "Kari", "Åse", "Jørgen", "Ingrid", "Sondre", "Maja", "Emil", "Nora", "Håkon",
    "Sofie", "Magnus", "Ella", "Bjørn", "Frida", "Øystein", "Thea", "Sigurd", "Live", "Tobias",
)  # fmt: skip
LAST_NAMES = (
    "Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Ødegård",
    "Bakke", "Solberg", "Kristiansen", "Dahl", "Lie", "Strand", "Moen", "Sæther",
)  # fmt: skip

# The OneRoster 1.2 columns of each file.
COLUMNS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "courses.csv": (
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
        "orgSourcedId,subjects,subjectCodes"
    ),
    "classes.csv": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
        "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
        "preferredFamilyName,primaryOrgSourcedId,pronouns"
    ),
    "roles.csv": (
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
        "orgSourcedId,userProfileSourcedId"
    ),
    "demographics.csv": (
        "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
        "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate"
    ),
}
MANIFEST_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses",
    "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
    "lineItems", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
    "results", "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources",
    "users",
)  # fmt: skip
BULK = frozenset(name.removesuffix(".csv") for name in COLUMNS)


# --- The school's people, as the source system has them -------------------------------------


@dataclass
class Klass:
    sid: str
    code: str
    grade: int
    homeroom: bool
    teachers: list[str] = field(default_factory=list)  # a homeroom's first is its primary


@dataclass
class Pupil:
    sid: str
    given: str
    family: str
    born: dt.date
    nin: str
    classes: list[str]  # the homeroom first
    guardians: list[str]


@dataclass
class Guardian:
    sid: str
    given: str
    family: str
    email: str
    sms: str
    nin: str
    role: str  # "parent" or "guardian"
    pupils: list[str]


@dataclass
class Teacher:
    sid: str
    given: str
    family: str
    email: str
    phone: str


@dataclass
class World:
    """What one export holds; ``change_world`` makes the next night's from a copy."""

    year_start: dt.date
    year_end: dt.date
    classes: dict[str, Klass] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    guardians: dict[str, Guardian] = field(default_factory=dict)
    teachers: dict[str, Teacher] = field(default_factory=dict)
    counter: dict[str, int] = field(default_factory=dict)  # the next number of each kind

    def next_id(self, kind: str) -> int:
        self.counter[kind] = self.counter.get(kind, 0) + 1
        return self.counter[kind]

    def homerooms(self, grade: int) -> list[str]:
        return [k.sid for k in self.classes.values() if k.homeroom and k.grade == grade]

    def links(self) -> int:
        return sum(len(g.pupils) for g in self.guardians.values())

    def memberships(self) -> int:
        return sum(len(p.classes) for p in self.pupils.values())

    def group_roles(self) -> set[tuple[str, str, str]]:
        """(teacher, role, class) for every teacher's enrollment."""
        roles = set()
        for klass in self.classes.values():
            for n, teacher in enumerate(klass.teachers):
                contact = klass.homeroom and n == 0
                roles.add((teacher, "contact_teacher" if contact else "teacher", klass.sid))
        return roles


class Nins:
    """Distinct synthetic identity numbers (month + 80, valid control digits)."""

    def __init__(self) -> None:
        from kontaktbok.schools.identity import make_test_nin

        self.make = make_test_nin
        self.next_individual: dict[str, int] = {}

    def new(self, born: dt.date) -> str:
        ddmmyy = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}"
        individual = self.next_individual.get(ddmmyy, 0)
        while individual < 1000:
            nin = self.make(ddmmyy, individual)
            individual += 1
            if nin:
                self.next_individual[ddmmyy] = individual
                return nin
        raise RuntimeError(f"no identity number left for {born}")


def _name(n: int) -> tuple[str, str]:
    return FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]


def _born(world: World, grade: int, n: int) -> dt.date:
    """A birth date in the year a pupil of ``grade`` is born (grade 1: six that autumn)."""
    return dt.date(world.year_start.year - 5 - grade, 1, 1) + dt.timedelta(days=n * 7919 % 365)


def _add_guardians(world: World, nins: Nins, pupil: Pupil, count: int) -> None:
    for k in range(count):
        n = world.next_id("guardian")
        given, _ = _name(n * 7 + k)
        born = dt.date(1970, 1, 1) + dt.timedelta(days=n * 37 % 9000)
        sms = f"+47 41{n:06d}" if n % 2 else f"+47 9{n:07d}"
        guardian = Guardian(
            sid=f"g-{n}", given=given, family=pupil.family, email=f"foresatt{n}@example.test",
            sms=sms, nin=nins.new(born), role="guardian" if n % 10 == 0 else "parent",
            pupils=[pupil.sid],
        )  # fmt: skip
        world.guardians[guardian.sid] = guardian
        pupil.guardians.append(guardian.sid)


def _add_pupil(world: World, nins: Nins, homeroom: str, guardians: int) -> Pupil:
    n = world.next_id("pupil")
    given, family = _name(n)
    grade = world.classes[homeroom].grade
    born = _born(world, grade, n)
    pupil = Pupil(f"p-{n}", given, family, born, nins.new(born), [homeroom], [])
    world.pupils[pupil.sid] = pupil
    _add_guardians(world, nins, pupil, guardians)
    return pupil


def make_world(pupils: int, year_start: dt.date, year_end: dt.date) -> tuple[World, Nins]:
    world = World(year_start=year_start, year_end=year_end)
    nins = Nins()
    homerooms = max(20, -(-pupils // CLASS_SIZE))  # two a grade at least, to move between
    teachers = max(homerooms + 10, round(pupils * TEACHERS_PER_PUPIL))
    for n in range(1, teachers + 1):
        given, family = _name(n * 3)
        world.teachers[f"t-{n}"] = Teacher(
            f"t-{n}", given, family, f"laerar{n}@skule.example.test", f"+47 55{n:06d}"
        )
    others = teachers - homerooms  # teachers who are no homeroom's contact teacher
    for c in range(homerooms):
        grade = 1 + c % 10
        code = f"{grade}-{c // 10 + 1}"
        second = f"t-{homerooms + 1 + c % others}"
        world.classes[f"c-{code}"] = Klass(f"c-{code}", code, grade, True, [f"t-{c + 1}", second])
    order = list(world.classes)
    for i in range(pupils):
        # A tenth of the pupils are the sibling of the one before, with the same guardians.
        if i % 10 == 9:
            sibling = world.pupils[f"p-{i}"]
            pupil = _add_pupil(world, nins, order[i % homerooms], guardians=0)
            pupil.family, pupil.guardians = sibling.family, list(sibling.guardians)
            for sid in pupil.guardians:
                world.guardians[sid].pupils.append(pupil.sid)
        else:
            _add_pupil(world, nins, order[i % homerooms], guardians=1 if i % 7 == 0 else 2)
    # Electives for grades 8–10: every pupil in one group of about 30.
    electives = 0
    for grade in (8, 9, 10):
        members = [p for p in world.pupils.values() if world.classes[p.classes[0]].grade == grade]
        for start in range(0, len(members), ELECTIVE_SIZE):
            electives += 1
            code = f"Valfag {grade}-{start // ELECTIVE_SIZE + 1}"
            teacher = f"t-{homerooms + 1 + (electives * 7) % others}"
            klass = Klass(f"v-{grade}-{start // ELECTIVE_SIZE + 1}", code, grade, False, [teacher])
            world.classes[klass.sid] = klass
            for pupil in members[start : start + ELECTIVE_SIZE]:
                pupil.classes.append(klass.sid)
    return world, nins


@dataclass
class Changes:
    """What the second export changes, and the counts its preview must show."""

    renamed: list[str]
    moved: list[str]
    left: list[str]
    new: list[str]
    phones: list[str]
    expected: dict[str, int]


def change_world(world: World, nins: Nins, share: float, seed: int) -> tuple[World, Changes]:
    """The next night's export: ``share`` of the pupils renamed, as many moved to another
    class, leaving (with their guardians) and new (with new guardians); twice ``share`` of
    the guardians with a new mobile number."""
    rng = random.Random(seed)
    after = deepcopy(world)
    each = max(1, round(len(world.pupils) * share))
    # Pupils who share no guardian with a sibling, so that leaving takes their guardians.
    single = [p.sid for p in world.pupils.values() if not _shares_guardians(world, p)]
    rng.shuffle(single)
    renamed, moved, left = single[:each], single[each : 2 * each], single[2 * each : 3 * each]
    for sid in renamed:
        pupil = after.pupils[sid]
        pupil.family = f"{pupil.family}-Nyberg"
    for sid in moved:
        pupil = after.pupils[sid]
        grade = after.classes[pupil.classes[0]].grade
        pupil.classes[0] = rng.choice([c for c in after.homerooms(grade) if c != pupil.classes[0]])
    ended_memberships = 0
    for sid in left:
        pupil = after.pupils.pop(sid)
        ended_memberships += len(pupil.classes)
        for guardian in pupil.guardians:
            del after.guardians[guardian]
    links_before, guardians_before = after.links(), len(after.guardians)
    new = [
        _add_pupil(after, nins, rng.choice(after.homerooms(1 + k % 10)), 1 if k % 7 == 0 else 2)
        for k in range(each)
    ]
    new_guardians = len(after.guardians) - guardians_before
    staying = [g for g in world.guardians if g in after.guardians]
    phones = rng.sample(staying, max(1, round(len(world.guardians) * 2 * share)))
    for sid in phones:
        n = int(sid.removeprefix("g-"))
        after.guardians[sid].sms = f"+47 48{n:06d}"
    expected = dict.fromkeys(COUNT_NAMES, 0) | {
        "pupils_new": len(new),
        "pupils_changed": len(renamed),
        "pupils_leaving": len(left),
        "memberships_new": len(new) + len(moved),
        "memberships_ended": len(moved) + ended_memberships,
        "accounts_new": new_guardians,
        "guardians_changed": len(phones),
        "guardianships_new": after.links() - links_before,
    }
    return after, Changes(renamed, moved, left, [p.sid for p in new], phones, expected)


def _shares_guardians(world: World, pupil: Pupil) -> bool:
    return any(len(world.guardians[g].pupils) > 1 for g in pupil.guardians)


COUNT_NAMES = (
    "classes_new", "classes_changed", "pupils_new", "pupils_changed", "pupils_leaving",
    "memberships_new", "memberships_ended", "accounts_new", "guardians_changed",
    "guardianships_new", "guardianships_changed", "guardianships_ended", "staff_new",
    "staff_changed", "staff_leaving", "roles_new", "roles_ended", "rejected",
)  # fmt: skip


def first_counts(world: World) -> dict[str, int]:
    """The counts the preview of the first export into an empty school must show."""
    return dict.fromkeys(COUNT_NAMES, 0) | {
        "classes_new": len(world.classes),
        "pupils_new": len(world.pupils),
        "memberships_new": world.memberships(),
        "accounts_new": len(world.guardians) + len(world.teachers),
        "guardianships_new": world.links(),
        "staff_new": len(world.teachers),
        "roles_new": len(world.group_roles()),
    }


# --- The export -----------------------------------------------------------------------------


def export(world: World) -> bytes:
    """The world as a OneRoster 1.2 CSV export, zipped."""
    modified = "2026-08-01T00:00:00Z"
    start, end = world.year_start.isoformat(), world.year_end.isoformat()
    school, term = "org-school", "term-1"
    tables: dict[str, list[list[str]]] = {name: [] for name in COLUMNS}
    tables["orgs.csv"] += [
        ["org-kommune", "active", modified, "Benchvik kommune", "district", "", ""],
        [school, "active", modified, "Benchvik skule", "school", SCHOOL_ORG_NUMBER, "org-kommune"],
    ]
    label = f"{world.year_start.year}/{world.year_end.year % 100:02d}"
    tables["academicSessions.csv"].append(
        [term, "active", modified, label, "schoolYear", start, end, "", str(world.year_end.year)]
    )
    courses = tables["courses.csv"]
    for n in range(1, 11):
        course = [f"crs-{n}", "active", modified, term, f"Trinn {n}", f"T{n}", f"{n:02d}"]
        courses.append([*course, school, "", ""])
    course = ["crs-valfag", "active", modified, term, "Valfag", "VAL", "08,09,10", school]
    courses.append([*course, "Valfag", "VAL"])
    for klass in world.classes.values():
        grades = f"{klass.grade:02d}"
        if klass.homeroom:
            row = [klass.sid, "active", modified, f"Kontaktklasse {klass.code}", grades]
            row += [f"crs-{klass.grade}", klass.code, "homeroom", "", school, term, "", "", ""]
        else:
            row = [klass.sid, "active", modified, klass.code, grades, "crs-valfag", klass.code]
            row += ["scheduled", "", school, term, "Valfag", "VAL", "1,2"]
        tables["classes.csv"].append(row)
    users, roles = tables["users.csv"], tables["roles.csv"]
    demographics, enrollments = tables["demographics.csv"], tables["enrollments.csv"]

    def user(sid: str, user_ids: str, given: str, family: str, **values: str) -> None:
        row = dict.fromkeys(COLUMNS["users.csv"].split(","), "") | {
            "sourcedId": sid, "status": "active", "dateLastModified": modified,
            "enabledUser": "true", "username": sid, "userIds": user_ids, "givenName": given,
            "familyName": family, "primaryOrgSourcedId": school, **values,
        }  # fmt: skip
        users.append(list(row.values()))

    def role(sid: str, name: str) -> None:
        roles.append([f"r-{sid}", "active", modified, sid, "primary", name, start, "", school, ""])

    def enroll(class_sid: str, sid: str, name: str, primary: bool) -> None:
        flag = "true" if primary else "false"
        row = [f"e-{class_sid}-{sid}", "active", modified, class_sid, school, sid, name, flag]
        enrollments.append([*row, start, end])

    for pupil in world.pupils.values():
        grades = f"{world.classes[pupil.classes[0]].grade:02d}"
        user(pupil.sid, f"{{fnr:{pupil.nin}}}", pupil.given, pupil.family,
             agentSourcedIds=",".join(pupil.guardians), grades=grades)  # fmt: skip
        role(pupil.sid, "student")
        demographics.append(
            [pupil.sid, "active", modified, pupil.born.isoformat(), "", *[""] * 7, "NO", "", "", ""]
        )
        for class_sid in pupil.classes:
            enroll(class_sid, pupil.sid, "student", False)
    for guardian in world.guardians.values():
        user(guardian.sid, f"{{fnr:{guardian.nin}}}", guardian.given, guardian.family,
             email=guardian.email, sms=guardian.sms,
             agentSourcedIds=",".join(guardian.pupils))  # fmt: skip
        role(guardian.sid, guardian.role)
    for teacher in world.teachers.values():
        feide = f"{{Feide:{teacher.email.split('@')[0]}@skule.no}}"
        user(teacher.sid, feide, teacher.given, teacher.family, email=teacher.email,
             phone=teacher.phone)  # fmt: skip
        role(teacher.sid, "teacher")
    for klass in world.classes.values():
        for n, teacher_sid in enumerate(klass.teachers):
            enroll(klass.sid, teacher_sid, "teacher", klass.homeroom and n == 0)

    manifest = [["propertyName", "value"], ["manifest.version", "1.0"]]
    manifest += [["oneroster.version", "1.2"]]
    manifest += [[f"file.{name}", "bulk" if name in BULK else "absent"] for name in MANIFEST_FILES]
    manifest += [["source.systemName", "bench/roster.py"], ["source.systemCode", "bench"]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.csv", _csv(manifest))
        for name, rows in tables.items():
            archive.writestr(name, _csv([COLUMNS[name].split(","), *rows]))
    return buffer.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode()


# --- Database -------------------------------------------------------------------------------


def database_url(args: argparse.Namespace) -> str:
    url = args.database_url or os.environ.get("KONTAKTBOK_DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"roster: a PostgreSQL URL is needed, not {parsed.scheme}://")
    name = parsed.path.lstrip("/")
    if "bench" not in name and not args.force:
        sys.exit(
            f"roster: the benchmark empties its database; {name!r} has no 'bench' in its name "
            "(give --database-url .../kontaktbok_bench_roster, or --force)"
        )
    return url


def create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    for key in [key for key in os.environ if key.startswith("KONTAKTBOK_")]:
        del os.environ[key]
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "kontaktbok.settings",
            "KONTAKTBOK_DATA_DIR": str(DATA_DIR),
            "KONTAKTBOK_DATABASE_URL": url,
            "KONTAKTBOK_LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


# --- Measuring ------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    queries: int = 0
    peak_rss_mb: float = 0.0
    budget: str = ""  # the budget the step counts towards


@contextmanager
def measured(steps: list[Step], name: str, budget: str = "") -> Iterator[Step]:
    """Times the block, counts its SQL queries, and notes the peak RSS after it."""
    from django.db import connection

    step = Step(name, budget=budget)

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        step.queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        yield step
        step.seconds = time.perf_counter() - started
    step.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps.append(step)
    print(f"  {name}: {step.seconds:.2f} s, {step.queries} queries", flush=True)


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def equal(self, what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            self.failures.append(f"{what}: {_difference(actual, expected)}")

    def true(self, what: str, value: bool) -> None:
        if not value:
            self.failures.append(what)


def _difference(actual: Any, expected: Any) -> str:
    """What differs, briefly: the keys of two dicts, the items of two sets."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        keys = sorted(
            k for k in actual.keys() | expected.keys() if actual.get(k) != expected.get(k)
        )
        shown = ", ".join(f"{k}: {actual.get(k)!r}, not {expected.get(k)!r}" for k in keys[:4])
        return f"{len(keys)} differ ({shown})"
    if isinstance(actual, set) and isinstance(expected, set):
        missing, extra = sorted(expected - actual, key=str), sorted(actual - expected, key=str)
        return f"{len(missing)} missing {missing[:3]!r}, {len(extra)} too many {extra[:3]!r}"
    return f"{actual!r}, not {expected!r}"


def check_database(checks: Checks, label: str, school: Any, world: World, left: World) -> None:
    """The school's pupils, classes, guardianships and group roles are the export's, by the
    source ids the import keeps; ``left`` holds the pupils who have left (kept, with their
    guardians on record)."""
    from django.contrib.auth import get_user_model

    from kontaktbok.roster.models import RosterKey
    from kontaktbok.schools.models import Group, Guardianship, Pupil, StaffMember, StaffRole
    from kontaktbok.schools.phones import mobile_number

    sid_of: dict[str, dict[int, str]] = {}
    for kind, source_id, object_id in RosterKey.objects.filter(school=school).values_list(
        "kind", "source_id", "object_id"
    ):
        sid_of.setdefault(kind, {})[object_id] = source_id
    pupil_sid, group_sid = sid_of.get("pupil", {}), sid_of.get("group", {})
    guardian_sid, staff_sid = sid_of.get("guardian", {}), sid_of.get("staff", {})

    pupils = {
        pupil_sid.get(pk, f"unkeyed {pk}"): (first, last, born, left_on)
        for pk, first, last, born, left_on in Pupil.objects.filter(school=school).values_list(
            "pk", "first_name", "last_name", "date_of_birth", "left_on"
        )
    }
    expected = {p.sid: (p.given, p.family, p.born, None) for p in world.pupils.values()}
    checks.equal(
        f"{label}: pupils in the school",
        {sid: value for sid, value in pupils.items() if value[3] is None},
        expected,
    )
    checks.equal(
        f"{label}: pupils who have left",
        {sid for sid, value in pupils.items() if value[3] is not None},
        set(left.pupils),
    )
    memberships = {
        (pupil_sid.get(p, "?"), group_sid.get(g, "?"))
        for g, p in Group.pupils.through.objects.filter(group__school=school).values_list(
            "group_id", "pupil_id"
        )
    }
    checks.equal(
        f"{label}: class and group memberships",
        memberships,
        {(p.sid, c) for p in world.pupils.values() for c in p.classes},
    )
    guardianships = {
        (guardian_sid.get(g, "?"), pupil_sid.get(p, "?"))
        for g, p in Guardianship.objects.filter(pupil__school=school).values_list(
            "guardian_id", "pupil_id"
        )
    }
    checks.equal(
        f"{label}: guardianships",
        guardianships,
        {(g, p.sid) for w in (world, left) for p in w.pupils.values() for g in p.guardians},
    )
    phones = dict(
        get_user_model()
        .objects.filter(pk__in=list(guardian_sid))
        .values_list("pk", "phone")
        .iterator(chunk_size=10000)
    )
    checks.equal(
        f"{label}: guardians' mobile numbers",
        {
            guardian_sid[pk]: phone
            for pk, phone in phones.items()
            if guardian_sid[pk] in world.guardians
        },
        {g.sid: mobile_number(g.sms) for g in world.guardians.values()},
    )
    checks.equal(
        f"{label}: staff members", StaffMember.objects.filter(school=school).count(),
        len(world.teachers),
    )  # fmt: skip
    roles = {
        (staff_sid.get(user, "?"), role, group_sid.get(group, "?"))
        for user, role, group in StaffRole.objects.filter(
            member__school=school, ends_on__isnull=True
        ).values_list("member__user_id", "role", "group_id")
    }
    checks.equal(f"{label}: teachers' group roles", roles, world.group_roles())


# --- The run --------------------------------------------------------------------------------


def school_year_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """The school year running today (from mid August to late June), or the coming one."""
    first = today.year if today.month >= 7 else today.year - 1
    return dt.date(first, 8, 17), dt.date(first + 1, 6, 18)


def run(args: argparse.Namespace) -> int:
    url = database_url(args)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "demo-clock").unlink(missing_ok=True)  # the real date decides the year
    name = urlparse(url).path.lstrip("/")
    print(f"database {name}: create, migrate, flush", flush=True)
    create_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from kontaktbok.core import clock
    from kontaktbok.roster import services
    from kontaktbok.roster.models import RosterImport
    from kontaktbok.schools import services as schools

    call_command("migrate", "--no-input", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("flush", "--no-input", verbosity=0)

    today = clock.today()
    year_start, year_end = school_year_bounds(today)
    municipality = schools.municipality_create(
        actor=None, name="Benchvik kommune", org_number="999000001"
    )
    school = schools.school_create(
        actor=None, municipality=municipality, name="Benchvik skule", org_number=SCHOOL_ORG_NUMBER
    )
    schools.school_year_create(
        actor=None, school=school, name=f"{year_start.year}–{year_end.year}",
        starts_on=year_start, ends_on=year_end,
    )  # fmt: skip

    started = time.perf_counter()
    world, nins = make_world(args.pupils, year_start, year_end)
    first_zip = export(world)
    after, changes = change_world(world, nins, share=0.005, seed=args.seed)
    second_zip = export(after)
    # The benchmark's own copies of the school (about a million objects, kept for the
    # checks) are left out of the garbage collector's full passes, which the import would
    # otherwise pay for; a server process holds no such thing.
    gc.collect()
    gc.freeze()
    generation = time.perf_counter() - started
    print(
        f"export: {len(world.pupils)} pupils, {len(world.guardians)} guardians, "
        f"{len(world.teachers)} teachers, {len(world.classes)} classes; "
        f"ZIP {len(first_zip) / 1e6:.1f} MB (second {len(second_zip) / 1e6:.1f} MB), "
        f"made in {generation:.1f} s",
        flush=True,
    )

    checks = Checks()
    steps: list[Step] = []
    previews: dict[str, dict[str, int]] = {}  # each preview's counts
    left = World(year_start, year_end)
    left.pupils = {sid: world.pupils[sid] for sid in changes.left}

    print("first import", flush=True)
    with measured(steps, "preview", "preview"):
        item = services.roster_preview(
            actor=None, school=school, file_name="oneroster-1.zip", data=first_zip
        )
    previews["first import"] = item.counts
    checks.equal("preview counts", item.counts, first_counts(world))
    with measured(steps, "apply", "apply"):
        applied = services.roster_apply(actor=None, roster_import=item)
    checks.true("apply returned False", applied)
    checks.equal("apply status", item.status, RosterImport.Status.APPLIED)
    check_database(checks, "after the first import", school, world, World(year_start, year_end))

    print("re-import with changes", flush=True)
    with measured(steps, "re-import preview", "re-import"):
        item = services.roster_preview(
            actor=None, school=school, file_name="oneroster-2.zip", data=second_zip
        )
    previews["re-import"] = item.counts
    checks.equal("re-import preview counts", item.counts, changes.expected)
    with measured(steps, "re-import apply", "re-import"):
        applied = services.roster_apply(actor=None, roster_import=item)
    checks.true("re-import apply returned False", applied)
    check_database(checks, "after the re-import", school, after, left)

    print("the same export again", flush=True)
    with measured(steps, "no-change preview"):
        item = services.roster_preview(
            actor=None, school=school, file_name="oneroster-2.zip", data=second_zip
        )
    previews["the same again"] = item.counts
    checks.equal("no-change preview: changes", item.changes, 0)
    checks.equal("no-change preview: rows refused", item.counts.get("rejected"), 0)
    with measured(steps, "no-change apply"):
        applied = services.roster_apply(actor=None, roster_import=item)
    checks.true("no-change apply returned False", applied)
    check_database(checks, "after the unchanged re-import", school, after, left)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    facts = {"generation": generation, "zip_mb": len(first_zip) / 1e6, "server": server_version}
    return report(steps, checks, previews, world, changes, facts)


def report(
    steps: list[Step],
    checks: Checks,
    previews: dict[str, dict[str, int]],
    world: World,
    changes: Changes,
    facts: dict[str, Any],
) -> int:
    import django

    totals = {budget: sum(s.seconds for s in steps if s.budget == budget) for budget in BUDGETS}
    held = {budget: totals[budget] < limit for budget, limit in BUDGETS.items()}
    w = 24
    print()
    print(f"kontaktbok roster import, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(
        f"{'software':<{w}}Python {sys.version.split()[0]}, Django {django.get_version()}, "
        f"PostgreSQL {facts['server'].split()[0]}"
    )
    print(
        f"{'export (OneRoster 1.2)':<{w}}{len(world.pupils)} pupils, {len(world.guardians)} "
        f"guardians ({world.links()} links), {len(world.teachers)} teachers,"
    )
    print(
        f"{'':<{w}}{len(world.classes)} classes and groups, {world.memberships()} memberships; "
        f"ZIP {facts['zip_mb']:.1f} MB, generated in {facts['generation']:.1f} s"
    )
    print(
        f"{'re-import changes':<{w}}{len(changes.renamed)} pupils renamed, {len(changes.moved)} "
        f"moved, {len(changes.left)} left, {len(changes.new)} new;"
    )
    print(f"{'':<{w}}{len(changes.phones)} guardians with a new mobile number")
    print()
    head = f"{'step':<{w}}{'seconds':>9}{'queries':>9}{'peak RSS MB':>13}  budget"
    print(head)
    print("-" * (len(head) + 22))
    for step in steps:
        budget = ""
        if step.budget in ("preview", "apply"):
            limit = BUDGETS[step.budget]
            budget = f"< {limit:.0f} s  {'ok' if held[step.budget] else 'FAILED'}"
        elif step.budget:
            budget = "(part of the re-import)"
        row = f"{step.name:<{w}}{step.seconds:>9.2f}{step.queries:>9}{step.peak_rss_mb:>13.0f}"
        print(f"{row}  {budget}".rstrip())
    reimport = [s for s in steps if s.budget == "re-import"]
    print(
        f"{'re-import total':<{w}}{totals['re-import']:>9.2f}"
        f"{sum(s.queries for s in reimport):>9}{'':>13}  "
        f"< {BUDGETS['re-import']:.0f} s  {'ok' if held['re-import'] else 'FAILED'}"
    )
    print()
    print("preview counts (those not 0):")
    for name, counts in previews.items():
        shown = ", ".join(f"{key} {n}" for key, n in counts.items() if n) or "no changes"
        print(f"  {name:<{w - 2}}{shown}")
    print()
    failures = [f"{b}: {totals[b]:.1f} s ≥ {BUDGETS[b]:.0f} s" for b in BUDGETS if not held[b]]
    print(f"checks: {'all hold' if not checks.failures else 'FAILED'}")
    for failure in checks.failures:
        print(f"  {failure}")
    print(f"budgets: {'all hold' if not failures else 'FAILED'}")
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures or checks.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=40000)
    parser.add_argument("--seed", type=int, default=8, help="which pupils the re-import changes")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--force", action="store_true", help="empty any database name")
    args = parser.parse_args(argv)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
