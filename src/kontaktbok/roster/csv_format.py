"""kontaktbok's own roster CSV: one file, one row per class, pupil, guardian or staff role,
with its headers in Nynorsk, Bokmål or English (docs/people.md describes it)."""

import csv
import io
from typing import Any

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
    parse_flag,
    parse_grade,
    parse_nin,
    parse_phone,
)
from kontaktbok.schools.models import StaffRole
from kontaktbok.schools.phones import mobile_or_landline

FILE = "CSV"

# Each column: its key and its header in nn, nb and en (any of them is understood).
COLUMNS: dict[str, tuple[str, str, str]] = {
    "kind": ("type", "type", "kind"),
    "id": ("id", "id", "id"),
    "first_name": ("førenamn", "fornavn", "first name"),
    "last_name": ("etternamn", "etternavn", "last name"),
    "birth_date": ("fødselsdato", "fødselsdato", "date of birth"),
    "nin": ("fødselsnummer", "fødselsnummer", "identity number"),
    "class": ("klasse", "klasse", "class"),
    "grade": ("trinn", "trinn", "grade"),
    "groups": ("grupper", "grupper", "groups"),
    "email": ("e-post", "e-post", "e-mail"),
    "mobile": ("mobil", "mobil", "mobile"),
    "pupils": ("elevar", "elever", "pupils"),
    "responsibility": ("foreldreansvar", "foreldreansvar", "parental responsibility"),
    "lives_with": ("bur saman med eleven", "bor sammen med eleven", "lives with the pupil"),
    "role": ("rolle", "rolle", "role"),
    "feide": ("feide-id", "feide-id", "feide id"),
}
LANGUAGES = ("nn", "nb", "en")

# The kinds of rows, as written in each language.
KINDS = {
    "klasse": "class",
    "class": "class",
    "gruppe": "group",
    "group": "group",
    "elev": "pupil",
    "pupil": "pupil",
    "føresett": "guardian",
    "foresatt": "guardian",
    "guardian": "guardian",
    "tilsett": "staff",
    "ansatt": "staff",
    "staff": "staff",
}
# Roles a row may give (per group): the whole-school roles are given by hand, with a
# second factor, never by an import.
ROLES = {
    "kontaktlærar": StaffRole.Role.CONTACT_TEACHER,
    "kontaktlærer": StaffRole.Role.CONTACT_TEACHER,
    "contact teacher": StaffRole.Role.CONTACT_TEACHER,
    "klasseteam": StaffRole.Role.CLASS_TEAM,
    "class team": StaffRole.Role.CLASS_TEAM,
    "lærar": StaffRole.Role.TEACHER,
    "lærer": StaffRole.Role.TEACHER,
    "teacher": StaffRole.Role.TEACHER,
}
REQUIRED = {
    "class": ("class",),
    "group": ("class",),
    "pupil": ("id", "first_name", "last_name", "birth_date"),
    "guardian": ("id", "first_name", "last_name", "pupils"),
    "staff": ("id", "first_name", "last_name", "email"),
}

SAMPLE = [
    {"kind": "klasse", "class": "5A", "grade": "5"},
    {"kind": "gruppe", "class": "5-musikk"},
    {
        "kind": "elev",
        "id": "E1001",
        "first_name": "Kari",
        "last_name": "Nordmann",
        "birth_date": "31.08.2015",
        "class": "5A",
        "groups": "5-musikk",
    },
    {
        "kind": "føresett",
        "id": "F2001",
        "first_name": "Ola",
        "last_name": "Nordmann",
        "email": "ola.nordmann@example.no",
        "mobile": "412 34 567",
        "pupils": "E1001",
        "responsibility": "ja",
        "lives_with": "ja",
    },
    {
        "kind": "tilsett",
        "id": "T3001",
        "first_name": "Lise",
        "last_name": "Lærar",
        "email": "lise.laerar@example.no",
        "class": "5A",
        "role": "kontaktlærar",
    },
]


def template(language: str) -> bytes:
    """The template to fill in, with headers in the given language: semicolons and a byte
    order mark, so Norwegian Excel opens it in columns with æ, ø and å intact."""
    column = LANGUAGES.index(language) if language in LANGUAGES else 0
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([headers[column] for headers in COLUMNS.values()])
    for row in SAMPLE:
        writer.writerow([row.get(key, "") for key in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _normal(header: str) -> str:
    return " ".join(header.strip().lower().replace("_", " ").split())


_HEADER_KEYS = {_normal(name): key for key, names in COLUMNS.items() for name in (*names, key)}


def read(data: bytes) -> Roster:
    """Read kontaktbok's roster CSV into records; bad rows are listed, never raised."""
    roster = Roster(source="csv")
    text = decode(data)
    headers = {_HEADER_KEYS.get(_normal(h)) for h in header_of(text)}
    for needed in ("kind", "id", "first_name", "last_name", "class"):
        if needed not in headers:
            roster.reject(FILE, 1, "missing_column", column=COLUMNS[needed][0])
    if roster.rejected:
        return roster
    reader = _Reader(roster)
    try:
        for line, raw in csv_rows(text):
            row = {
                _HEADER_KEYS[_normal(h)]: v for h, v in raw.items() if _normal(h) in _HEADER_KEYS
            }
            reader.row(line, row)
    except csv.Error as error:  # a field larger than the csv module takes, a stray NUL
        roster.reject(FILE, 0, "not_read", value=str(error))
    reader.finish()
    return roster


class _Reader:
    """Turns rows into records; a staff member's several role rows become one record."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.seen: dict[str, int] = {}  # key -> first line
        self.nins: dict[str, int] = {}
        self.staff: dict[str, StaffRecord] = {}
        self.classes: set[str] = set()

    def row(self, line: int, row: dict[str, Any]) -> None:
        key = row.get("id", "")
        kind = KINDS.get(row.get("kind", "").strip().lower())
        if kind is None:
            self.roster.reject(FILE, line, "bad_kind", key=key, value=row.get("kind", ""))
            return
        for needed in REQUIRED[kind]:
            if not row.get(needed):
                self.roster.reject(FILE, line, "missing_value", key=key, column=_header(needed))
                return
        handle = {
            "class": self.class_row,
            "group": self.group_row,
            "pupil": self.pupil,
            "guardian": self.guardian,
            "staff": self.staff_row,
        }[kind]
        try:
            handle(line, row)
        except BadValue as bad:
            self.roster.reject(FILE, line, bad.reason, key=key, **bad.params)

    def _once(self, line: int, key: str, nin: str | None = None) -> None:
        first = self.seen.get(key) or (self.nins.get(nin) if nin else None)
        if first is not None:
            raise BadValue("duplicate", other=first)
        self.seen[key] = line
        if nin:
            self.nins[nin] = line

    def _class(self, line: int, row: dict[str, Any], kind: str) -> None:
        name = row["class"]
        if name in self.classes:
            return
        grade = parse_grade(row.get("grade", ""))
        if kind == "class" and grade is None:
            grade = parse_grade("".join(c for c in name if c.isdigit())[:2] or "")
        self.classes.add(name)
        self.roster.classes.append(ClassRecord(name, name, kind, grade, line))

    def class_row(self, line: int, row: dict[str, Any]) -> None:
        self._class(line, row, "class")

    def group_row(self, line: int, row: dict[str, Any]) -> None:
        self._class(line, row, "teaching")

    def pupil(self, line: int, row: dict[str, Any]) -> None:
        born = parse_date(row["birth_date"])
        nin = parse_nin(row.get("nin", ""))
        self._once(line, row["id"], nin)
        groups = (row["class"], *_list(row.get("groups", "")))
        self.roster.pupils.append(
            PupilRecord(row["id"], row["first_name"], row["last_name"], born, nin, groups, line)
        )

    def guardian(self, line: int, row: dict[str, Any]) -> None:
        email = parse_email(row.get("email", ""))
        phone = parse_phone(row.get("mobile", ""))
        if not email and not phone:
            raise BadValue("no_contact")
        nin = parse_nin(row.get("nin", ""))
        self._once(line, row["id"])
        link = {
            "parental_responsibility": parse_flag(row.get("responsibility", "")),
            "lives_with_pupil": parse_flag(row.get("lives_with", "")),
        }
        links = tuple(GuardianLink(pupil, **link) for pupil in _list(row["pupils"], spaces=True))
        name = f"{row['first_name']} {row['last_name']}"
        self.roster.guardians.append(
            GuardianRecord(row["id"], name, email, phone, nin, links, line)
        )

    def staff_row(self, line: int, row: dict[str, Any]) -> None:
        email = parse_email(row["email"])
        role = row.get("role", "").strip().lower()
        roles: tuple[tuple[str, str], ...] = ()
        if role or row.get("class"):
            if role not in ROLES and role not in ROLES.values():
                raise BadValue("bad_role", value=row.get("role", ""))
            roles = ((str(ROLES.get(role, role)), row["class"]),) if row.get("class") else ()
        known = self.staff.get(row["id"])
        if known is not None:  # another role of the same person
            self.staff[row["id"]] = StaffRecord(
                **{**known.__dict__, "roles": (*known.roles, *roles)}
            )
            return
        self._once(line, row["id"])
        self.staff[row["id"]] = StaffRecord(
            row["id"],
            f"{row['first_name']} {row['last_name']}",
            email,
            _work_phone(row.get("mobile", "")),
            row.get("feide", "").strip().lower(),
            roles,
            line,
        )

    def finish(self) -> None:
        self.roster.staff.extend(self.staff.values())


def _header(key: str) -> str:
    return COLUMNS[key][0]


def _list(value: str, spaces: bool = False) -> list[str]:
    """Group names separated by commas (ids also by spaces)."""
    if spaces:
        value = value.replace(" ", ",")
    return [part.strip() for part in value.split(",") if part.strip()]


def _work_phone(value: str) -> str:
    """A work phone may be a landline."""
    try:
        return mobile_or_landline(value) if value.strip() else ""
    except ValidationError:
        raise BadValue("bad_phone", value=value) from None
