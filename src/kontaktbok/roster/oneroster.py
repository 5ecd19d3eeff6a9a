"""Reading a OneRoster 1.2 CSV export (the IMS Global bulk rostering format) into the plain
records of ``records``: homeroom classes and scheduled groups from classes.csv, people from
users.csv with their roles from roles.csv (or the OneRoster 1.1 ``role`` column), birth
dates from demographics.csv and memberships from enrollments.csv. Rows marked
"tobedeleted" and disabled users are read as if they were not there."""

import csv
import io
import zipfile
from dataclasses import replace
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError

from kontaktbok.roster.records import (
    BadValue,
    ClassRecord,
    GuardianLink,
    GuardianRecord,
    PupilRecord,
    Roster,
    StaffRecord,
    csv_rows,
    decode,
    header_of,
    parse_date,
    parse_email,
    parse_grade,
    parse_nin,
    parse_phone,
)
from kontaktbok.schools.phones import mobile_or_landline

Row = dict[str, str]
Rows = list[tuple[int, Row]]
Users = dict[str, tuple[int, Row]]  # sourcedId → (line in users.csv, row)
Classes = dict[str, ClassRecord | None]  # sourcedId → class, None if not taken
Titles = list[tuple[str, str]]  # a staff member's (role, class key)

USERS = "users.csv"
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # bytes of CSV taken out of one ZIP, at most
NIN_TYPES = frozenset({"fnr", "nin", "fodselsnummer", "fødselsnummer", "pid"})
PUPIL, GUARDIAN, STAFF = "pupil", "guardian", "staff"
STAFF_ROLES = ("teacher", "aide", "counselor", "administrator", "principal", "siteadministrator")
ROLE_KINDS = {  # OneRoster role, in lower case → kind of person
    "student": PUPIL,
    **dict.fromkeys(("parent", "guardian", "relative"), GUARDIAN),
    **dict.fromkeys(STAFF_ROLES, STAFF),
}
RESPONSIBLE = frozenset({"parent", "guardian"})  # a "relative" has no parental responsibility
REQUIRED = {  # the files read, with the columns each must have
    USERS: ("sourcedId", "givenName", "familyName"),
    "orgs.csv": ("sourcedId",),
    "classes.csv": ("sourcedId", "classType"),
    "roles.csv": ("userSourcedId", "role"),
    "demographics.csv": ("sourcedId", "birthDate"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
}


def read_zip(data: bytes, school_org_number: str = "") -> Roster:
    """A roster from a ZIP file holding the CSV files, at its top or inside a folder."""
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
            if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
                return _unreadable("oneroster.zip", "> 200 MB")
            # Deepest first, so that of two files with one name the one nearest the top wins.
            for member in sorted(members, key=lambda m: -m.filename.count("/")):
                with archive.open(member) as stream:
                    files[PurePosixPath(member.filename).name] = stream.read(MAX_UNCOMPRESSED)
    except Exception as error:  # a broken ZIP fails in many ways; none may escape
        return _unreadable("oneroster.zip", str(error) or type(error).__name__)
    return read_files(files, school_org_number=school_org_number)


def read_files(files: dict[str, bytes], school_org_number: str = "") -> Roster:
    """A roster from the CSV files of one export, by file name ("users.csv" → its bytes).
    With ``school_org_number``, and a school org whose ``identifier`` is that number in
    orgs.csv, only that school's classes, enrollments and people are taken."""
    roster = Roster(source="oneroster")
    by_name = {PurePosixPath(name).name.lower(): data for name, data in files.items()}
    tables = {name: _table(roster, name, by_name.get(name.lower())) for name in REQUIRED}
    if tables[USERS] is None:
        return _unreadable(USERS, USERS)
    school, elsewhere = _schools(tables["orgs.csv"] or [], school_org_number)
    classes = _read_classes(roster, tables["classes.csv"] or [], school)
    users = _read_users(roster, tables[USERS] or [])
    roles, away = _read_roles(users, tables["roles.csv"], elsewhere)
    for uid in away:
        del users[uid]
    kinds = {uid: {ROLE_KINDS[r] for r in roles.get(uid, ()) if r in ROLE_KINDS} for uid in users}
    births = {
        row["sourcedId"]: (n, row["birthDate"]) for n, row in tables["demographics.csv"] or []
    }
    enrollments = tables["enrollments.csv"] or []
    groups, staff_roles = _read_enrollments(roster, enrollments, classes, users, school)
    links = _guardian_links(roster, users, kinds, away)
    nins: dict[str, int] = {}  # pupils' identity-number digests → line
    for uid, (line, row) in users.items():
        try:
            if not kinds[uid]:
                raise _no_role(roles.get(uid, set()))
            if PUPIL in kinds[uid]:
                pupil = _pupil(uid, line, row, births.get(uid, (0, "")), nins)
                roster.pupils.append(replace(pupil, groups=tuple(groups.get(uid, ()))))
                continue
            if GUARDIAN in kinds[uid]:
                responsible = bool(roles[uid] & RESPONSIBLE)
                roster.guardians.append(_guardian(uid, line, row, links[uid], responsible))
            if STAFF in kinds[uid]:
                roster.staff.append(_staff(uid, line, row, staff_roles.get(uid, [])))
        except BadValue as bad:  # refused on its line, or where the value is (birthDate)
            file, line = bad.params.pop("file", USERS), bad.params.pop("line", line)
            roster.reject(file, line, bad.reason, key=uid, **bad.params)
    _drop_refused(roster)
    return roster


def _unreadable(file: str, value: str) -> Roster:
    """A roster with nothing in it but the reason the export could not be read."""
    roster = Roster(source="oneroster")
    roster.reject(file, 0, "not_read", value=value)
    return roster


def _table(roster: Roster, name: str, data: bytes | None) -> Rows | None:
    """The live rows of one file (None when the export has no such file). A file without
    a column it needs is refused once, on its header line, and none of it is read."""
    if data is None:
        return None
    text = decode(data)
    try:
        missing = [column for column in REQUIRED[name] if column not in header_of(text)]
        rows = [] if missing else list(csv_rows(text))
    except csv.Error as error:
        roster.reject(name, 0, "not_read", value=str(error))
        return []
    if missing:
        roster.reject(name, 1, "missing_column", column=missing[0])
    blank = dict.fromkeys(REQUIRED[name], "")  # in case the header is not what it seemed
    return [(n, blank | row) for n, row in rows if row.get("status", "").lower() != "tobedeleted"]


def _listed(value: str) -> list[str]:
    """The values of a OneRoster list field ("a,b,c")."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _schools(orgs: Rows, org_number: str) -> tuple[str | None, set[str]]:
    """The sourcedId of the school org with the organisation number (None: take all), and
    the sourcedIds of the other schools, whose classes and people are left out."""
    numbers = {
        row["sourcedId"]: row.get("identifier", "").replace(" ", "")
        for _, row in orgs
        if row.get("type", "").lower() == "school"
    }
    wanted = org_number.replace(" ", "")
    school = next((sid for sid, number in numbers.items() if wanted and number == wanted), None)
    return school, (set(numbers) - {school} if school else set())


def _read_classes(roster: Roster, rows: Rows, school: str | None) -> Classes:
    """Homerooms as classes and scheduled classes as teaching groups, by sourcedId; None
    for a class that is not taken (refused, or of another school)."""
    classes: Classes = {}
    for line, row in rows:
        key, kind = row["sourcedId"], row["classType"].lower()
        classes[key] = None
        if school and (row.get("schoolSourcedId") or school) != school:
            continue
        grades = [*_listed(row.get("grades", "")), ""]
        name = row.get("classCode") or row.get("title", "")
        try:
            if kind not in ("homeroom", "scheduled"):
                raise BadValue("bad_kind", value=row["classType"])
            if not name:
                raise BadValue("missing_value", column="title")
            grade = _grade(grades[0], required=kind == "homeroom")
        except BadValue as bad:
            roster.reject("classes.csv", line, bad.reason, key=key, **bad.params)
            continue
        kind = "class" if kind == "homeroom" else "teaching"
        record = ClassRecord(key=key, name=name, kind=kind, grade=grade, line=line)
        classes[key] = record
        roster.classes.append(record)
    return classes


def _grade(value: str, required: bool) -> int | None:
    """A class's grade: a homeroom must have one, a teaching group may span grades."""
    try:
        grade = parse_grade(value)
    except BadValue:
        if required:
            raise
        return None
    if grade is None and required:
        raise BadValue("bad_grade", value=value)
    return grade


def _read_users(roster: Roster, rows: Rows) -> Users:
    """Enabled users by sourcedId; an id given twice is refused (and read from neither)."""
    users: Users = {}
    for line, row in rows:
        uid = row["sourcedId"]
        if row.get("enabledUser", "").lower() == "false":
            continue
        if uid in users:
            roster.reject(USERS, line, "duplicate", key=uid, other=users[uid][0])
        else:
            users[uid] = (line, row)
    return users


def _read_roles(
    users: Users, rows: Rows | None, elsewhere: set[str]
) -> tuple[dict[str, set[str]], set[str]]:
    """Each user's roles (lower case) from roles.csv, or from the ``role`` column of
    users.csv (OneRoster 1.1) when there is no roles.csv; and the users whose every role
    is at another school."""
    if rows is None:
        rows = [
            (line, {**row, "userSourcedId": uid, "orgSourcedId": row.get("orgSourcedIds", "")})
            for uid, (line, row) in users.items()
        ]
    roles: dict[str, set[str]] = {}
    away: set[str] = set()
    for _, row in rows:
        uid, orgs = row["userSourcedId"], set(_listed(row.get("orgSourcedId", "")))
        if elsewhere and orgs and orgs <= elsewhere:
            away.add(uid)
        elif uid in users and row.get("role"):
            roles.setdefault(uid, set()).add(row["role"].lower())
    return roles, (away & set(users)) - set(roles)


def _no_role(roles: set[str]) -> BadValue:
    """Why a user none of whose roles kontaktbok knows is refused."""
    if roles:
        return BadValue("bad_role", value=", ".join(sorted(roles)))
    return BadValue("missing_value", column="role")


def _read_enrollments(
    roster: Roster, rows: Rows, classes: Classes, users: Users, school: str | None
) -> tuple[dict[str, list[str]], dict[str, Titles]]:
    """The classes each pupil is in, and each teacher's roles: contact teacher for a
    homeroom where the enrollment is primary, teacher otherwise."""
    groups: dict[str, list[str]] = {}
    staff_roles: dict[str, Titles] = {}
    for line, row in rows:
        uid, key, role = row["userSourcedId"], row["classSourcedId"], row["role"].lower()
        if uid not in users or (school and (row.get("schoolSourcedId") or school) != school):
            continue
        if key not in classes:
            roster.reject("enrollments.csv", line, "unknown_class", value=key)
            continue
        group = classes[key]
        if group is None:
            continue
        if role == "student":
            _add(groups.setdefault(uid, []), key)
        elif role in ("teacher", "aide"):
            primary = role == "teacher" and row.get("primary", "").lower() == "true"
            title = "contact_teacher" if primary and group.kind == "class" else "teacher"
            _add(staff_roles.setdefault(uid, []), (title, key))
    return groups, staff_roles


def _add[T](values: list[T], value: T) -> None:
    """Appends ``value`` unless it is there already."""
    if value not in values:
        values.append(value)


def _guardian_links(
    roster: Roster, users: Users, kinds: dict[str, set[str]], away: set[str]
) -> dict[str, list[str]]:
    """Each guardian's pupils (in the order of the file), from the guardian's
    ``agentSourcedIds`` and from the pupils' own. A guardian's link to someone who is no
    pupil in the file is refused."""
    links: dict[str, list[str]] = {uid: [] for uid in users if GUARDIAN in kinds[uid]}
    for uid, (line, row) in users.items():
        for agent in _listed(row.get("agentSourcedIds", "")):
            if uid in links and PUPIL not in kinds[uid]:
                if agent in users and PUPIL in kinds[agent]:
                    _add(links[uid], agent)
                elif agent not in away:
                    roster.reject(USERS, line, "unknown_pupil", value=agent)
            elif PUPIL in kinds[uid] and agent in links:
                _add(links[agent], uid)
    return {key: sorted(pupils, key=lambda pupil: users[pupil][0]) for key, pupils in links.items()}


def _user_ids(row: Row, types: frozenset[str]) -> str:
    """The first of a user's ``userIds`` ("{Feide:ola@skole.no},{fnr:…}") of the types."""
    for part in _listed(row.get("userIds", "")):
        kind, _, value = part.strip("{}").partition(":")
        if kind.strip().lower() in types and value.strip():
            return value.strip()
    return ""


def _nin_digest(row: Row) -> str | None:
    """The digest of a user's identity number: a userId of an identity-number type, else an
    ``identifier`` of 11 digits."""
    nin = _user_ids(row, NIN_TYPES)
    identifier = row.get("identifier", "").replace(" ", "")
    if not nin and len(identifier) == 11 and identifier.isdigit():
        nin = identifier
    return parse_nin(nin)


def _names(row: Row) -> tuple[str, str]:
    """A user's first and last names, the preferred ones where given."""
    first = row.get("preferredGivenName") or row["givenName"]
    last = row.get("preferredFamilyName") or row["familyName"]
    if not first or not last:
        raise BadValue("missing_value", column="givenName" if not first else "familyName")
    return first, last


def _pupil(
    uid: str, line: int, row: Row, birth: tuple[int, str], nins: dict[str, int]
) -> PupilRecord:
    """A pupil (in no class yet), born on the ``birthDate`` of demographics.csv; refused
    when another pupil has the same identity number."""
    first, last = _names(row)
    digest = _nin_digest(row)
    if not birth[1]:
        raise BadValue("missing_value", column="birthDate")
    try:
        born = parse_date(birth[1])
    except BadValue as bad:
        raise BadValue(bad.reason, file="demographics.csv", line=birth[0], **bad.params) from None
    if digest in nins:
        raise BadValue("duplicate", other=nins[digest])
    if digest:
        nins[digest] = line
    return PupilRecord(uid, first, last, born, digest, groups=(), line=line)


def _guardian(
    uid: str, line: int, row: Row, pupils: list[str], responsible: bool
) -> GuardianRecord:
    """A guardian, reached by e-mail and/or by the mobile number in ``sms`` or ``phone``."""
    first, last = _names(row)
    digest = _nin_digest(row)
    email = parse_email(row.get("email", ""))
    phone = parse_phone(row.get("sms") or row.get("phone", ""))
    if not email and not phone:
        raise BadValue("no_contact")
    links = tuple(GuardianLink(pupil, parental_responsibility=responsible) for pupil in pupils)
    return GuardianRecord(uid, f"{first} {last}", email, phone, digest, links, line=line)


def _staff(uid: str, line: int, row: Row, roles: Titles) -> StaffRecord:
    """A staff member with the roles their enrollments give; a work number that is no
    number at all is left out rather than refused."""
    first, last = _names(row)
    email = parse_email(row.get("email", ""))
    if not email:
        raise BadValue("no_email")
    try:
        phone = mobile_or_landline(row.get("phone") or row.get("sms", ""))
    except ValidationError:
        phone = ""
    feide_id = _user_ids(row, frozenset({"feide"})).lower()
    return StaffRecord(uid, f"{first} {last}", email, phone, feide_id, tuple(roles), line=line)


def _drop_refused(roster: Roster) -> None:
    """No record for a person one of whose rows was refused (an id given twice)."""
    roster.pupils = [r for r in roster.pupils if r.key not in roster.refused_keys]
    roster.guardians = [r for r in roster.guardians if r.key not in roster.refused_keys]
    roster.staff = [r for r in roster.staff if r.key not in roster.refused_keys]
