"""What a roster file says, read into plain records whatever its format: classes, pupils,
guardians and staff keyed by the source system's id, and the rows that were refused with
their line number and reason. Identity numbers are checked and turned into their keyed
digest while reading; the clear number is never kept."""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.identity import nin_digest
from kontaktbok.schools.phones import mobile_number

# Why a row was refused, in the reader's language when it is shown.
REASONS = {
    "missing_column": _("The column “%(column)s” is missing."),
    "missing_value": _("“%(column)s” is empty."),
    "bad_nin": _("The identity number is not valid (its control digits are wrong)."),
    "bad_date": _("“%(value)s” is not a date (write 2016-08-31 or 31.08.2016)."),
    "bad_email": _("“%(value)s” is not an e-mail address."),
    "bad_phone": _("“%(value)s” is not a mobile number that can receive SMS."),
    "bad_kind": _("“%(value)s” is not a kind of row this file can hold."),
    "bad_grade": _("“%(value)s” is not a grade from 1 to 10."),
    "bad_role": _("“%(value)s” is not a role kontaktbok knows."),
    "duplicate": _("The same person is in the file twice (also on line %(other)s)."),
    "no_contact": _("The guardian has neither an e-mail address nor a mobile number."),
    "no_email": _("The staff member has no e-mail address."),
    "unknown_class": _("The class or group “%(value)s” is neither in the file nor at the school."),
    "unknown_pupil": _("The pupil “%(value)s” is not in the file."),
    "other_school": _(
        "The pupil is registered at another school; that school marks them as left first."
    ),
    "not_read": _("The file could not be read: %(value)s"),
}


@dataclass(frozen=True)
class Rejected:
    """A refused row: the file it is in, its line number and why (a key of REASONS)."""

    file: str
    line: int
    reason: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return str(REASONS[self.reason]) % self.params


@dataclass(frozen=True)
class ClassRecord:
    key: str
    name: str
    kind: str  # schools.Group.Kind: "class" or "teaching"
    grade: int | None
    line: int = 0


@dataclass(frozen=True)
class PupilRecord:
    key: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    nin_digest: str | None
    groups: tuple[str, ...]  # class keys
    line: int = 0


@dataclass(frozen=True)
class GuardianLink:
    pupil: str  # pupil key
    parental_responsibility: bool = True
    lives_with_pupil: bool = True


@dataclass(frozen=True)
class GuardianRecord:
    key: str
    full_name: str
    email: str
    phone: str
    nin_digest: str | None
    links: tuple[GuardianLink, ...]
    line: int = 0


@dataclass(frozen=True)
class StaffRecord:
    key: str
    full_name: str
    email: str
    phone: str
    feide_id: str
    roles: tuple[tuple[str, str], ...]  # (role, class key)
    line: int = 0


@dataclass
class Roster:
    """A whole roster as read from one file (or one OneRoster set of files)."""

    source: str  # "csv" or "oneroster"
    classes: list[ClassRecord] = field(default_factory=list)
    pupils: list[PupilRecord] = field(default_factory=list)
    guardians: list[GuardianRecord] = field(default_factory=list)
    staff: list[StaffRecord] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # Keys of rows that were refused: a sync leaves those people as they are.
    refused_keys: set[str] = field(default_factory=set)

    def reject(self, file: str, line: int, reason: str, key: str = "", **params: Any) -> None:
        self.rejected.append(Rejected(file, line, reason, params))
        if key:
            self.refused_keys.add(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "classes": [_fields(c) for c in self.classes],
            "pupils": [
                _fields(p) | {"date_of_birth": p.date_of_birth.isoformat()} for p in self.pupils
            ],
            "guardians": [
                _fields(g) | {"links": [_fields(link) for link in g.links]} for g in self.guardians
            ],
            "staff": [_fields(s) for s in self.staff],
            "rejected": [_fields(r) for r in self.rejected],
            "refused_keys": sorted(self.refused_keys),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Roster":
        return cls(
            source=data["source"],
            classes=[ClassRecord(**c) for c in data["classes"]],
            pupils=[
                PupilRecord(
                    **{
                        **p,
                        "date_of_birth": dt.date.fromisoformat(p["date_of_birth"]),
                        "groups": tuple(p["groups"]),
                    }
                )
                for p in data["pupils"]
            ],
            guardians=[
                GuardianRecord(**{**g, "links": tuple(GuardianLink(**x) for x in g["links"])})
                for g in data["guardians"]
            ],
            staff=[
                StaffRecord(**{**s, "roles": tuple(tuple(r) for r in s["roles"])})
                for s in data["staff"]
            ],
            rejected=[Rejected(**r) for r in data["rejected"]],
            refused_keys=set(data["refused_keys"]),
        )


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields by name (``dataclasses.asdict`` deep-copies every value, and is
    slow for a school's whole roster)."""
    return dict(vars(record))


class BadValue(Exception):
    """A value in a row that cannot be used: carries the reason and its parameters."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


# --- reading values --------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 with or without a byte order mark, or the Windows
    code page older Norwegian Excel saves in; lines end in a newline whatever they ended in."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def csv_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row with its line number in the file, as header → value. The delimiter
    is the one the header line uses: comma, or the semicolon Norwegian Excel writes."""
    header_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    # A column named twice takes its last cell's value (as with csv.DictReader); a cell
    # beyond the header is left out, a row shorter than it is filled with "".
    last = {name: n for n, name in enumerate(header)}
    columns = [(name.strip(), last[name]) for name in dict.fromkeys(header)]
    missing = [""] * len(header)
    for row in reader:
        cells = [value.strip() for value in row] + missing
        values = {name: cells[n] for name, n in columns}
        if any(values.values()):
            yield reader.line_num, values


def header_of(text: str) -> list[str]:
    header_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=header_line.count)
    return [h.strip() for h in next(csv.reader([header_line], delimiter=delimiter), [])]


def parse_date(value: str) -> dt.date:
    """2016-08-31, 31.08.2016 or 31/08/2016 (the forms Excel writes in Norway)."""
    text = value.strip()
    for form in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    # OneRoster writes ISO 8601, sometimes with a time.
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise BadValue("bad_date", value=value) from None


def parse_nin(value: str) -> str | None:
    """The keyed digest of an identity number, None if the cell is empty."""
    text = value.replace(" ", "")
    if not text:
        return None
    try:
        return nin_digest(text)  # checks the control digits
    except ValidationError:
        raise BadValue("bad_nin") from None


def parse_email(value: str) -> str:
    text = value.strip().lower()
    if text:
        try:
            validate_email(text)
        except ValidationError:
            raise BadValue("bad_email", value=value) from None
    return text


def parse_phone(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    try:
        return mobile_number(text)
    except ValidationError:
        raise BadValue("bad_phone", value=value) from None


YES = {"ja", "j", "yes", "y", "x", "1", "true", "sann"}
NO = {"nei", "n", "no", "0", "false", "usann", ""}


def parse_flag(value: str, default: bool = True) -> bool:
    text = value.strip().lower()
    if not text:
        return default
    return text in YES


def parse_grade(value: str) -> int | None:
    text = value.strip().lower().removesuffix(".").removeprefix("0")
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= 10:
        return int(text)
    raise BadValue("bad_grade", value=value)
