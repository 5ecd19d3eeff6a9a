"""Reading a OneRoster 1.2 CSV export: a small school's whole export, the same as a ZIP,
the OneRoster 1.1 form of users.csv, each reason a row is refused, and properties."""

import csv
import datetime as dt
import io
import string
import zipfile
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kontaktbok.roster import oneroster
from kontaktbok.roster.oneroster import read_files, read_zip
from kontaktbok.roster.records import (
    ClassRecord,
    GuardianLink,
    GuardianRecord,
    PupilRecord,
    Rejected,
    Roster,
    StaffRecord,
    csv_rows,
)
from kontaktbok.schools.identity import make_test_nin, nin_digest

PROPERTY = settings(max_examples=50, deadline=None, database=None)


def nin(birth_ddmmyy: str, individual: int) -> str:
    """A synthetic identity number (the individual number must be one that has one)."""
    number = make_test_nin(birth_ddmmyy, individual)
    assert number
    return number


NIN_OLA, NIN_KAJA, NIN_PER = nin("010116", 120), nin("150316", 121), nin("020280", 124)

ORGS = """\
sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
org-k,active,2026-08-01T00:00:00Z,Bakke kommune,district,,
org-s,active,2026-08-01T00:00:00Z,Bakken skole,school,974 123 456,org-k
"""
SESSIONS = """\
sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
term-1,active,2026-08-01T00:00:00Z,2026/27,schoolYear,2026-08-17,2027-06-18,,2027
"""
CLASSES = """\
sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,\
schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
cls-5a,active,2026-08-01,Kontaktklasse 5A,05,crs-5,5A,homeroom,Rom 12,org-s,term-1,,,
cls-mat,active,2026-08-01,Matematikk 5-6,"05,06",crs-m,,scheduled,,org-s,term-1,Matte,MAT,"1,2"
"""
ROLES = """\
sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,\
orgSourcedId,userProfileSourcedId
r1,active,2026-08-01,p1,primary,student,2026-08-17,,org-s,
r2,active,2026-08-01,p2,primary,student,2026-08-17,,org-s,
r3,active,2026-08-01,p3,primary,student,2026-08-17,,org-s,
r4,active,2026-08-01,g1,primary,parent,,,org-s,
r5,active,2026-08-01,g2,primary,guardian,,,org-s,
r6,active,2026-08-01,g3,primary,relative,,,org-s,
r7,active,2026-08-01,t1,primary,teacher,,,org-s,
r8,active,2026-08-01,t2,primary,aide,,,org-s,
"""
DEMOGRAPHICS = """\
sourcedId,status,dateLastModified,birthDate,sex,countryOfBirthCode
p1,active,2026-08-01,2016-01-01,male,NO
p2,active,2026-08-01,2016-03-15T00:00:00Z,female,NO
p3,active,2026-08-01,2016-12-31,female,SE
"""
ENROLLMENTS = """\
sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,\
beginDate,endDate
e1,active,2026-08-01,cls-5a,org-s,p1,student,false,2026-08-17,2027-06-18
e2,active,2026-08-01,cls-mat,org-s,p1,student,false,2026-08-17,2027-06-18
e3,active,2026-08-01,cls-5a,org-s,p2,student,false,2026-08-17,2027-06-18
e4,active,2026-08-01,cls-5a,org-s,p3,student,false,2026-08-17,2027-06-18
e5,active,2026-08-01,cls-5a,org-s,t1,teacher,true,2026-08-17,2027-06-18
e6,active,2026-08-01,cls-mat,org-s,t1,teacher,true,2026-08-17,2027-06-18
e7,active,2026-08-01,cls-5a,org-s,t2,teacher,false,2026-08-17,2027-06-18
e8,active,2026-08-01,cls-mat,org-s,t2,aide,false,2026-08-17,2027-06-18
"""
USER_COLUMNS = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
    "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
    "agentSourcedIds", "grades", "password", "userMasterIdentifier", "resourceSourcedIds",
    "preferredGivenName", "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId",
    "pronouns",
]  # fmt: skip
USERS: list[dict[str, str]] = [  # lines 2 to 9 of users.csv
    {"sourcedId": "p1", "givenName": "Ola", "familyName": "Nordmann", "grades": "05",
     "userIds": f"{{Feide:ola@bakken.no}},{{fnr:{NIN_OLA}}}", "agentSourcedIds": "g1,g3"},
    {"sourcedId": "p2", "givenName": "Kari", "preferredGivenName": "Kaja", "familyName": "Berg",
     "identifier": NIN_KAJA},
    {"sourcedId": "p3", "givenName": "Åse", "familyName": "Ødegård", "agentSourcedIds": "g2"},
    {"sourcedId": "g1", "givenName": "Per", "familyName": "Nordmann",
     "userIds": f"{{fnr:{NIN_PER}}}", "email": "Per.Nordmann@Example.no", "sms": "412 34 567",
     "phone": "22334455", "agentSourcedIds": "p1"},
    {"sourcedId": "g2", "givenName": "Lise", "familyName": "Berg", "email": "lise@example.no",
     "phone": "+46 70 123 45 67", "agentSourcedIds": "p2"},
    {"sourcedId": "g3", "givenName": "Randi", "familyName": "Nordmann", "middleName": "R.",
     "email": "randi@example.no"},
    {"sourcedId": "t1", "givenName": "Anne", "familyName": "Lærer", "phone": "22 33 44 55",
     "email": "anne.laerer@bakken.no", "userIds": "{Feide:Anne.Laerer@bakken.no}"},
    {"sourcedId": "t2", "givenName": "Bjørn", "familyName": "Hjelp", "phone": "123",
     "email": "bjorn@bakken.no", "enabledUser": "true", "status": "active"},
]  # fmt: skip

CLASS_5A = ClassRecord("cls-5a", "5A", "class", 5, line=2)
CLASS_MAT = ClassRecord("cls-mat", "Matematikk 5-6", "teaching", 5, line=3)
OLA = PupilRecord(
    "p1", "Ola", "Nordmann", dt.date(2016, 1, 1), nin_digest(NIN_OLA), ("cls-5a", "cls-mat"), 2
)
KAJA = PupilRecord("p2", "Kaja", "Berg", dt.date(2016, 3, 15), nin_digest(NIN_KAJA), ("cls-5a",), 3)
ASE = PupilRecord("p3", "Åse", "Ødegård", dt.date(2016, 12, 31), None, ("cls-5a",), 4)
PER = GuardianRecord(
    "g1", "Per Nordmann", "per.nordmann@example.no", "+47 41 23 45 67", nin_digest(NIN_PER),
    (GuardianLink("p1"),), line=5,
)  # fmt: skip
LISE = GuardianRecord(
    "g2", "Lise Berg", "lise@example.no", "+46 70 123 45 67", None,
    (GuardianLink("p2"), GuardianLink("p3")), line=6,
)  # fmt: skip
RANDI = GuardianRecord(
    "g3", "Randi Nordmann", "randi@example.no", "", None,
    (GuardianLink("p1", parental_responsibility=False),), line=7,
)  # fmt: skip
ANNE = StaffRecord(
    "t1", "Anne Lærer", "anne.laerer@bakken.no", "+47 22 33 44 55", "anne.laerer@bakken.no",
    (("contact_teacher", "cls-5a"), ("teacher", "cls-mat")), line=8,
)  # fmt: skip
BJORN = StaffRecord(
    "t2", "Bjørn Hjelp", "bjorn@bakken.no", "", "",
    (("teacher", "cls-5a"), ("teacher", "cls-mat")), line=9,
)  # fmt: skip


def users_csv(users: list[dict[str, str]], columns: list[str] = USER_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(users)
    return out.getvalue()


def edited(key: str, **changes: str) -> list[dict[str, str]]:
    """The sample's users with one user's columns changed."""
    return [{**user, **changes} if user["sourcedId"] == key else user for user in USERS]


def sample(users: list[dict[str, str]] = USERS, **texts: str) -> dict[str, bytes]:
    """The sample export, with any file's text replaced (a file given as "" is left out)."""
    files = {
        "manifest.csv": "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n",
        "orgs.csv": ORGS,
        "academicSessions.csv": SESSIONS,
        "classes.csv": CLASSES,
        "users.csv": users_csv(users),
        "roles.csv": ROLES,
        "demographics.csv": DEMOGRAPHICS,
        "enrollments.csv": ENROLLMENTS,
    }
    files.update({f"{name}.csv": text for name, text in texts.items()})
    return {name: text.encode() for name, text in files.items() if text}


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return out.getvalue()


def keys(roster: Roster) -> set[str]:
    """The keys of every class and person read."""
    records = (roster.classes, roster.pupils, roster.guardians, roster.staff)
    return {record.key for kind in records for record in kind}


ALL_KEYS = {"cls-5a", "cls-mat", "p1", "p2", "p3", "g1", "g2", "g3", "t1", "t2"}


# --- a whole export ----------------------------------------------------------------------


def test_the_sample_export_is_read_record_by_record():
    roster = read_files(sample())

    assert roster.source == "oneroster"
    assert roster.classes == [CLASS_5A, CLASS_MAT]
    assert roster.pupils == [OLA, KAJA, ASE]
    assert roster.guardians == [PER, LISE, RANDI]
    assert roster.staff == [ANNE, BJORN]
    assert roster.rejected == []
    assert roster.refused_keys == set()


@pytest.mark.parametrize("folder", ["", "eksport-2026-08-01/", "a/b/"])
def test_a_zip_is_read_like_its_files(folder):
    assert read_zip(zipped(sample(), folder)) == read_files(sample())


def test_a_zip_passes_the_school_on():
    other = ORGS + "org-2,active,2026-08-01,Andre skole,school,998877665,org-k\n"
    files = sample(orgs=other)
    assert read_zip(zipped(files), school_org_number="998877665").classes == []


def test_oneroster_1_1_users_carry_their_role_and_orgs():
    role = {"p": "student", "g": "parent", "t": "teacher"}
    users = [{**u, "role": role[u["sourcedId"][0]], "orgSourcedIds": "org-s"} for u in USERS]
    users[5]["role"] = "relative"
    users[7]["role"] = "aide"
    columns = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role"]
    columns += [c for c in USER_COLUMNS if c not in columns]
    files = sample(roles="")
    files["users.csv"] = users_csv(users, columns).encode()

    assert read_files(files) == read_files(sample())


def test_deleted_and_disabled_rows_are_as_if_absent():
    users = [*edited("p3", status="tobedeleted"), {**USERS[0], "enabledUser": "false"}]
    users = [{**u, "enabledUser": "False"} if u["sourcedId"] == "t2" else u for u in users]
    classes = CLASSES.replace("cls-mat,active", "cls-mat,tobedeleted")
    enrollments = ENROLLMENTS.replace("e3,active", "e3,tobedeleted")

    roster = read_files(sample(users, classes=classes, enrollments=enrollments))

    assert keys(roster) == ALL_KEYS - {"p3", "t2", "cls-mat"}
    assert roster.pupils == [replace(OLA, groups=("cls-5a",)), replace(KAJA, groups=())]
    # g2's link to p3 came from p3's row only; her own link to p2 stays.
    assert roster.guardians == [PER, replace(LISE, links=(GuardianLink("p2"),)), RANDI]
    # The deleted class is absent: the enrollments still in it name an unknown class (t2's
    # is skipped with t2).
    assert roster.rejected == [
        Rejected("enrollments.csv", 3, "unknown_class", {"value": "cls-mat"}),
        Rejected("enrollments.csv", 7, "unknown_class", {"value": "cls-mat"}),
    ]


def test_only_the_school_with_the_org_number_is_taken():
    orgs = ORGS + "org-2,active,2026-08-01,Andre skole,school,998877665,org-k\n"
    classes = CLASSES + "cls-7b,active,2026-08-01,7B,07,crs-7,7B,homeroom,,org-2,term-1,,,\n"
    roles = ROLES + "r9,active,2026-08-01,p4,primary,student,,,org-2,\n"
    roles += "r10,active,2026-08-01,g4,primary,parent,,,org-k,\n"
    enrollments = ENROLLMENTS + "e9,active,2026-08-01,cls-7b,org-2,p4,student,false,,\n"
    demographics = DEMOGRAPHICS + "p4,active,2026-08-01,2014-05-05,male,NO\n"
    users = [
        *USERS,
        {"sourcedId": "p4", "givenName": "Per", "familyName": "Sjuende"},
        {"sourcedId": "g4", "givenName": "Gro", "familyName": "Sjuende", "email": "gro@x.no",
         "agentSourcedIds": "p4,p1"},
    ]  # fmt: skip
    files = sample(
        users, orgs=orgs, classes=classes, roles=roles, enrollments=enrollments,
        demographics=demographics,
    )  # fmt: skip

    ours = read_files(files, school_org_number="974 123 456")
    everyone = read_files(files)
    unknown_number = read_files(files, school_org_number="111111111")

    assert keys(ours) == ALL_KEYS | {"g4"}
    assert ours.guardians[-1].links == (GuardianLink("p1"),)  # p4 is at the other school
    assert ours.rejected == []
    assert keys(everyone) == keys(unknown_number) == ALL_KEYS | {"cls-7b", "p4", "g4"}
    assert everyone.guardians[-1].links == (GuardianLink("p1"), GuardianLink("p4"))


def test_a_teacher_who_is_also_a_parent_is_both():
    roles = ROLES + "r9,active,2026-08-01,t1,secondary,parent,,,org-s,\n"
    # Her work number is a landline: as a guardian she is reached on the mobile in sms.
    roster = read_files(sample(edited("t1", agentSourcedIds="p2", sms="41234567"), roles=roles))
    assert roster.staff == [ANNE, BJORN]
    assert roster.guardians[-1] == GuardianRecord(
        "t1", "Anne Lærer", "anne.laerer@bakken.no", "+47 41 23 45 67", None,
        (GuardianLink("p2"),), line=8,
    )  # fmt: skip
    assert roster.rejected == []


# --- refused rows ------------------------------------------------------------------------


def only_rejection(roster: Roster) -> Rejected:
    assert len(roster.rejected) == 1, roster.rejected
    return roster.rejected[0]


def test_not_a_zip():
    roster = read_zip(b"PK\x03\x04 but not really")
    rejected = only_rejection(roster)
    assert (rejected.file, rejected.line, rejected.reason) == ("oneroster.zip", 0, "not_read")
    assert keys(roster) == set()


def test_a_zip_without_users():
    files = sample()
    del files["users.csv"]
    assert read_zip(zipped(files)).rejected == [
        Rejected("users.csv", 0, "not_read", {"value": "users.csv"})
    ]


def test_a_zip_too_big_when_unpacked(monkeypatch):
    monkeypatch.setattr(oneroster, "MAX_UNCOMPRESSED", 10_000)
    data = zipped({**sample(), "padding.csv": b"0" * 10_000})
    assert len(data) < 10_000
    assert read_zip(data).rejected == [
        Rejected("oneroster.zip", 0, "not_read", {"value": "> 200 MB"})
    ]


def test_a_file_the_csv_reader_cannot_read():
    enrollments = ENROLLMENTS + "e9,active,2026-08-01," + "x" * 200_000 + ",org-s,p1\n"
    roster = read_files(sample(enrollments=enrollments))
    rejected = only_rejection(roster)
    assert (rejected.file, rejected.line, rejected.reason) == ("enrollments.csv", 0, "not_read")
    assert keys(roster) == ALL_KEYS
    assert roster.pupils[0].groups == ()


def test_users_without_a_required_column():
    files = sample()
    files["users.csv"] = users_csv(USERS, [c for c in USER_COLUMNS if c != "familyName"]).encode()
    roster = read_files(files)
    assert roster.rejected == [Rejected("users.csv", 1, "missing_column", {"column": "familyName"})]
    assert keys(roster) == {"cls-5a", "cls-mat"}


def test_classes_without_a_required_column():
    roster = read_files(sample(classes=CLASSES.replace("classType", "type")))
    assert roster.rejected[0] == Rejected(
        "classes.csv", 1, "missing_column", {"column": "classType"}
    )
    # Every enrollment now names a class that is not there; the people are all read.
    assert {r.reason for r in roster.rejected[1:]} == {"unknown_class"}
    assert keys(roster) == ALL_KEYS - {"cls-5a", "cls-mat"}


@pytest.mark.parametrize(
    ("demographics", "line"),
    [(DEMOGRAPHICS.replace("2016-12-31", ""), 4), (DEMOGRAPHICS.rsplit("p3", 1)[0], 4)],
)
def test_a_pupil_without_a_birth_date(demographics, line):
    roster = read_files(sample(demographics=demographics))
    assert roster.rejected == [
        Rejected("users.csv", line, "missing_value", {"column": "birthDate"})
    ]
    assert roster.refused_keys == {"p3"}
    assert keys(roster) == ALL_KEYS - {"p3"}
    assert roster.guardians[1].links == (GuardianLink("p2"), GuardianLink("p3"))


def test_a_user_without_a_name():
    roster = read_files(sample(edited("g3", givenName="")))
    assert roster.rejected == [Rejected("users.csv", 7, "missing_value", {"column": "givenName"})]
    assert keys(roster) == ALL_KEYS - {"g3"}


def test_a_user_without_a_role():
    roster = read_files(sample(roles=ROLES.replace("r8,active,2026-08-01,t2", "r8,active,,t9")))
    assert roster.rejected == [Rejected("users.csv", 9, "missing_value", {"column": "role"})]
    assert keys(roster) == ALL_KEYS - {"t2"}


def test_a_bad_identity_number():
    bad = NIN_KAJA[:-1] + str((int(NIN_KAJA[-1]) + 1) % 10)
    roster = read_files(sample(edited("p2", identifier=bad)))
    assert roster.rejected == [Rejected("users.csv", 3, "bad_nin", {})]
    assert roster.refused_keys == {"p2"}
    assert keys(roster) == ALL_KEYS - {"p2"}


def test_an_identifier_that_is_no_identity_number_is_not_one():
    roster = read_files(sample(edited("p2", identifier="elev-4711")))
    assert roster.rejected == []
    assert roster.pupils[1].nin_digest is None


def test_a_bad_birth_date_is_refused_where_it_is():
    roster = read_files(sample(demographics=DEMOGRAPHICS.replace("2016-01-01", "snart")))
    assert roster.rejected == [Rejected("demographics.csv", 2, "bad_date", {"value": "snart"})]
    assert roster.refused_keys == {"p1"}
    assert keys(roster) == ALL_KEYS - {"p1"}


def test_a_bad_email():
    roster = read_files(sample(edited("t1", email="anne.bakken.no")))
    assert roster.rejected == [Rejected("users.csv", 8, "bad_email", {"value": "anne.bakken.no"})]
    assert keys(roster) == ALL_KEYS - {"t1"}


def test_a_guardian_s_bad_mobile_number():
    roster = read_files(sample(edited("g2", phone="22334455")))  # a landline
    assert roster.rejected == [Rejected("users.csv", 6, "bad_phone", {"value": "22334455"})]
    assert keys(roster) == ALL_KEYS - {"g2"}


def test_a_staff_member_s_number_is_taken_as_it_comes_or_left_out():
    roster = read_files(sample(edited("t1", phone="0047 41234567")))
    assert roster.staff[0].phone == "+47 41 23 45 67"
    assert roster.staff[1].phone == ""  # "123" is no number; t2 is still read
    assert roster.rejected == []


def test_a_class_of_an_unknown_kind():
    classes = CLASSES.replace("scheduled", "guided")
    roster = read_files(sample(classes=classes))
    assert roster.rejected == [Rejected("classes.csv", 3, "bad_kind", {"value": "guided"})]
    assert roster.refused_keys == {"cls-mat"}
    assert keys(roster) == ALL_KEYS - {"cls-mat"}
    assert roster.pupils[0].groups == ("cls-5a",)


@pytest.mark.parametrize("grades", ["", "KG", "13"])
def test_a_homeroom_without_a_usable_grade(grades):
    roster = read_files(sample(classes=CLASSES.replace(",05,crs-5", f",{grades},crs-5")))
    assert roster.rejected == [Rejected("classes.csv", 2, "bad_grade", {"value": grades})]
    assert keys(roster) == ALL_KEYS - {"cls-5a"}


def test_a_teaching_group_may_have_no_or_other_grades():
    for grades in ("", "Other"):
        classes = CLASSES.replace('"05,06"', grades)
        assert read_files(sample(classes=classes)).classes[1].grade is None


def test_a_role_kontaktbok_does_not_know():
    roster = read_files(sample(roles=ROLES.replace("aide", "proctor")))
    assert roster.rejected == [Rejected("users.csv", 9, "bad_role", {"value": "proctor"})]
    assert keys(roster) == ALL_KEYS - {"t2"}


def test_the_same_id_twice():
    roster = read_files(sample([*USERS, {**USERS[3], "givenName": "Pål"}]))
    assert roster.rejected == [Rejected("users.csv", 10, "duplicate", {"other": 5})]
    assert roster.refused_keys == {"g1"}
    assert keys(roster) == ALL_KEYS - {"g1"}


def test_two_pupils_with_one_identity_number():
    users = [
        *USERS,
        {"sourcedId": "p9", "givenName": "O", "familyName": "N", "identifier": NIN_OLA},
    ]
    roles = ROLES + "r9,active,2026-08-01,p9,primary,student,,,org-s,\n"
    demographics = DEMOGRAPHICS + "p9,active,2026-08-01,2016-01-01,male,NO\n"
    roster = read_files(sample(users, roles=roles, demographics=demographics))
    assert roster.rejected == [Rejected("users.csv", 10, "duplicate", {"other": 2})]
    assert roster.refused_keys == {"p9"}
    assert keys(roster) == ALL_KEYS


def test_a_guardian_without_email_or_mobile():
    roster = read_files(sample(edited("g3", email="")))
    assert roster.rejected == [Rejected("users.csv", 7, "no_contact", {})]
    assert keys(roster) == ALL_KEYS - {"g3"}


def test_a_staff_member_without_email():
    roster = read_files(sample(edited("t2", email="")))
    assert roster.rejected == [Rejected("users.csv", 9, "no_email", {})]
    assert keys(roster) == ALL_KEYS - {"t2"}


def test_a_guardian_with_a_mobile_number_only():
    roster = read_files(sample(edited("g2", email="")))
    assert roster.rejected == []
    (g2,) = [g for g in roster.guardians if g.key == "g2"]
    assert g2.email == "" and g2.phone


def test_an_enrollment_in_an_unknown_class():
    enrollments = ENROLLMENTS + "e9,active,2026-08-01,cls-9z,org-s,p2,student,false,,\n"
    enrollments += "e10,active,2026-08-01,cls-5a,org-s,nobody,student,false,,\n"
    roster = read_files(sample(enrollments=enrollments))
    assert roster.rejected == [
        Rejected("enrollments.csv", 10, "unknown_class", {"value": "cls-9z"})
    ]
    assert roster.refused_keys == set()
    assert roster.pupils[1] == KAJA


def test_a_guardian_of_an_unknown_pupil():
    roster = read_files(sample(edited("g1", agentSourcedIds="p9, p1")))
    assert roster.rejected == [Rejected("users.csv", 5, "unknown_pupil", {"value": "p9"})]
    assert roster.guardians[0] == PER
    assert roster.refused_keys == set()


# --- properties --------------------------------------------------------------------------

NAMES = st.text(string.ascii_letters + "æøåÆØÅéü", min_size=1, max_size=12)


@st.composite
def exports(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, tuple[str, str, str]]]:
    """Valid users (the first a pupil, whom the parents are guardians of) in users.csv with
    its columns in any order, comma- or semicolon-separated, with or without a BOM; and
    what each user is: sourcedId → (role, given name, family name)."""
    people = draw(
        st.lists(
            st.tuples(st.sampled_from(["student", "teacher", "parent"]), NAMES, NAMES), min_size=1
        )
    )
    people[0] = ("student", *people[0][1:])
    delimiter = draw(st.sampled_from([",", ";"]))
    bom = "\ufeff" if draw(st.booleans()) else ""
    users, roles, births = (
        [],
        [["sourcedId", "userSourcedId", "role"]],
        [["sourcedId", "birthDate"]],
    )
    for n, (role, first, last) in enumerate(people):
        user = {"sourcedId": f"u{n}", "givenName": first, "familyName": last}
        if role != "student":
            user["email"] = f"u{n}@example.no"
        if role == "parent":
            user["agentSourcedIds"] = "u0"
        users.append(user)
        roles.append([f"r{n}", f"u{n}", role])
        births.append([f"u{n}", "2016-05-17"])
    columns = draw(st.permutations(USER_COLUMNS))

    def text(rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows(rows)
        return (bom + out.getvalue()).encode()

    files = {
        "users.csv": text([columns, *([u.get(c, "") for c in columns] for u in users)]),
        "roles.csv": text(roles),
        "demographics.csv": text(births),
    }
    return files, {f"u{n}": person for n, person in enumerate(people)}


@PROPERTY
@given(exports())
def test_valid_users_are_read_as_they_are(export):
    files, people = export
    roster = read_files(files)

    assert roster.rejected == []
    assert {p.key: ("student", p.first_name, p.last_name) for p in roster.pupils} == {
        key: person for key, person in people.items() if person[0] == "student"
    }
    for role, records in (("parent", roster.guardians), ("teacher", roster.staff)):
        assert {r.key: r.full_name for r in records} == {
            key: f"{first} {last}" for key, (r, first, last) in people.items() if r == role
        }
    assert all(g.links == (GuardianLink("u0"),) for g in roster.guardians)


@PROPERTY
@given(st.binary(max_size=4000))
def test_any_bytes_give_a_roster(data):
    assert isinstance(read_zip(data), Roster)


@PROPERTY
@given(
    st.dictionaries(
        st.sampled_from(["users.csv", "roles.csv", "classes.csv", "enrollments.csv"]),
        st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    )
)
def test_any_files_in_a_zip_give_a_roster(contents):
    headers = {
        "users.csv": "sourcedId,givenName,familyName,agentSourcedIds,userIds,email,sms\n",
        "roles.csv": "userSourcedId,role,orgSourcedId\n",
        "classes.csv": "sourcedId,classType,grades,title\n",
        "enrollments.csv": "classSourcedId,userSourcedId,role,primary\n",
    }
    files = {name: headers[name].encode() + data for name, data in contents.items()}
    assert isinstance(read_zip(zipped(files)), Roster)


def test_csv_rows_keep_what_csv_dictreader_made_of_odd_rows():
    """Keys and values stripped; a column named twice (also after stripping) takes its last
    cell; a short row is filled with "", a long one cut; empty rows are skipped."""
    text = "a, b ,a,c\r\n1, 2 ,3\r\n\r\n,,,\r\n4,5,6,7,8\r\n"
    assert list(csv_rows(text)) == [
        (2, {"a": "3", "b": "2", "c": ""}),
        (5, {"a": "6", "b": "5", "c": "7"}),
    ]
    assert list(csv_rows("x;y\n1\n")) == [(2, {"x": "1", "y": ""})]
    assert list(csv_rows("a,b,a\n1,2\n")) == [(2, {"a": "", "b": "2"})]
