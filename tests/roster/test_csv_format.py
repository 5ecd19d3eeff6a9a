"""kontaktbok's roster CSV: any header language, delimiter and byte order mark; every
reason a row is refused, with its line."""

import csv
import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kontaktbok.roster import csv_format
from kontaktbok.schools.identity import make_test_nin, nin_digest

NAME = st.text(
    "abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ", min_size=1, max_size=12
)
BORN = st.dates(dt.date(2008, 1, 1), dt.date(2020, 12, 31))


def write(rows: list[dict[str, str]], language: str = "nn", delimiter: str = ";") -> bytes:
    index = csv_format.LANGUAGES.index(language)
    keys = list(csv_format.COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([csv_format.COLUMNS[k][index] for k in keys])
    for row in rows:
        writer.writerow([row.get(k, "") for k in keys])
    return out.getvalue().encode("utf-8")


def pupil(key: str = "E1", **extra: str) -> dict[str, str]:
    return {
        "kind": "elev",
        "id": key,
        "first_name": "Kari",
        "last_name": "Nordmann",
        "birth_date": "2016-08-31",
        "class": "5A",
        **extra,
    }


def guardian(key: str = "F1", **extra: str) -> dict[str, str]:
    return {
        "kind": "føresett",
        "id": key,
        "first_name": "Ola",
        "last_name": "Nordmann",
        "email": "ola@example.no",
        "pupils": "E1",
        **extra,
    }


@settings(max_examples=50, deadline=None)
@given(
    people=st.lists(st.tuples(NAME, NAME, BORN), min_size=1, max_size=8),
    language=st.sampled_from(csv_format.LANGUAGES),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_valid_pupils_are_read_back_exactly(people, language, delimiter, bom):
    rows = [
        pupil(f"E{n}", first_name=first, last_name=last, birth_date=born.strftime("%d.%m.%Y"))
        for n, (first, last, born) in enumerate(people)
    ]
    data = write(rows, language, delimiter)
    roster = csv_format.read(b"\xef\xbb\xbf" + data if bom else data)
    assert roster.rejected == []
    assert [(p.first_name, p.last_name, p.date_of_birth) for p in roster.pupils] == people
    assert all(p.groups == ("5A",) for p in roster.pupils)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_never_raised(data):
    roster = csv_format.read(data)
    assert roster.source == "csv"


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_any_text_after_a_header_is_read_or_refused(text):
    header = write([]).decode()
    roster = csv_format.read((header + text).encode())
    for rejected in roster.rejected:
        assert rejected.line >= 1 and rejected.message


def test_the_windows_code_page_older_excel_saves_in_is_read():
    data = write([pupil(first_name="Åse", last_name="Ørnø")]).decode("utf-8")
    roster = csv_format.read(data.encode("cp1252"))
    assert (roster.pupils[0].first_name, roster.pupils[0].last_name) == ("Åse", "Ørnø")


def test_identity_numbers_are_kept_only_as_their_digest():
    number = make_test_nin("010116", 120)
    roster = csv_format.read(write([pupil(nin=number)]))
    assert roster.pupils[0].nin_digest == nin_digest(number)
    assert number not in repr(roster.to_json())


def test_a_missing_column_refuses_the_file():
    data = "type;id;førenamn;klasse\nelev;E1;Kari;5A\n".encode()
    roster = csv_format.read(data)
    assert [(r.line, r.reason, r.params) for r in roster.rejected] == [
        (1, "missing_column", {"column": "etternamn"})
    ]
    assert roster.pupils == []


REFUSED = [
    (pupil(first_name=""), "missing_value"),
    (pupil(nin="01011612345"), "bad_nin"),
    (pupil(birth_date="32.13.2016"), "bad_date"),
    ({**pupil(), "kind": "lærling"}, "bad_kind"),
    ({"kind": "klasse", "class": "5A", "grade": "11"}, "bad_grade"),
    (guardian(email="", mobile=""), "no_contact"),
    (guardian(email="ola@"), "bad_email"),
    (guardian(mobile="22 22 22 22"), "bad_phone"),  # a landline cannot receive SMS
    (
        {
            "kind": "tilsett",
            "id": "T1",
            "first_name": "L",
            "last_name": "L",
            "email": "l@x.no",
            "class": "5A",
            "role": "vaktmeister",
        },
        "bad_role",
    ),
]


@pytest.mark.parametrize(("row", "reason"), REFUSED)
def test_each_reason_a_row_is_refused_with_its_line(row, reason):
    roster = csv_format.read(write([pupil("E0", first_name="Først"), row, pupil("E9")]))
    assert [(r.line, r.reason) for r in roster.rejected] == [(3, reason)]
    assert [p.key for p in roster.pupils] == ["E0", "E9"]  # the other rows are read
    assert roster.rejected[0].message


def test_the_same_person_twice_is_refused_on_the_second_line():
    number = make_test_nin("010116", 120)
    rows = [pupil("E1", nin=number), pupil("E1"), pupil("E2", nin=number)]
    roster = csv_format.read(write(rows))
    assert [(r.line, r.reason, r.params) for r in roster.rejected] == [
        (3, "duplicate", {"other": 2}),
        (4, "duplicate", {"other": 2}),
    ]


def test_a_staff_member_with_several_roles_is_one_record():
    staff = {
        "kind": "tilsett",
        "id": "T1",
        "first_name": "Lise",
        "last_name": "Lærar",
        "email": "lise@example.no",
        "feide": "Lise@Feide.no",
    }
    rows = [
        {**staff, "class": "5A", "role": "kontaktlærar"},
        {**staff, "class": "5B", "role": "lærer"},
    ]
    roster = csv_format.read(write(rows))
    (member,) = roster.staff
    assert member.roles == (("contact_teacher", "5A"), ("teacher", "5B"))
    assert member.feide_id == "lise@feide.no"


def test_a_guardians_flags_and_several_pupils():
    row = guardian(
        pupils="E1, E2", responsibility="nei", lives_with="nei", mobile="+46 70 123 45 67"
    )
    (record,) = csv_format.read(write([row])).guardians
    assert [link.pupil for link in record.links] == ["E1", "E2"]
    assert not any(link.parental_responsibility or link.lives_with_pupil for link in record.links)
    assert record.phone.startswith("+46")
