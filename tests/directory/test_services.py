"""The school admin keeps the staff directory: work numbers only, all or nothing, audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from kontaktbok.core.models import AuditEntry
from kontaktbok.directory.models import DirectoryEntry
from kontaktbok.directory.services import directory_entry_update
from kontaktbok.schools.models import StaffMember
from tests.directory.helpers import Role, add_staff, member_of

pytestmark = pytest.mark.django_db


def test_the_school_admin_updates_an_entry(world):
    member = member_of(world.contact_teacher_a)
    entry = directory_entry_update(
        actor=world.school_admin,
        member=member,
        data={
            "work_phone": "+47 57 11 22 33",
            "teams_address": "teacher.a@skule.test",
            "office_hours": "Måndag–fredag 08.00–15.30",
            "listed": True,
        },
    )
    member.refresh_from_db()
    assert member.work_phone == "+47 57 11 22 33"
    assert member.teams_address == "teacher.a@skule.test"
    assert DirectoryEntry.objects.get(member=member) == entry
    assert entry.office_hours == "Måndag–fredag 08.00–15.30"
    audit = AuditEntry.objects.get(action="directory.entry.updated")
    assert audit.actor == world.school_admin
    assert audit.role == Role.SCHOOL_ADMIN
    assert audit.school_id == world.school.pk
    assert audit.detail == {
        "member": member.pk,
        "changed": ["office_hours", "teams_address", "work_phone"],
    }


def test_only_the_fields_given_change(world):
    member = member_of(world.office)
    directory_entry_update(
        actor=world.school_admin, member=member, data={"office_hours": "07.45–15.30"}
    )
    member.refresh_from_db()
    assert member.work_phone == "+47 400 00 000"
    directory_entry_update(actor=world.school_admin, member=member, data={"listed": False})
    entry = DirectoryEntry.objects.get(member=member)
    assert entry.office_hours == "07.45–15.30"
    assert entry.listed is False


def test_spaces_are_tidied(world):
    member = member_of(world.office)
    directory_entry_update(
        actor=world.school_admin,
        member=member,
        data={"work_phone": "  +47  57 00   00 00 ", "office_hours": " Måndag  08–16 "},
    )
    member.refresh_from_db()
    assert member.work_phone == "+47 57 00 00 00"
    assert member.directory_entry.office_hours == "Måndag 08–16"


@pytest.mark.parametrize("who", ["office", "leadership", "contact_teacher_a", "guardian_a"])
def test_nobody_but_the_school_admin_may_change_it(world, who):
    member = member_of(world.contact_teacher_a)
    with pytest.raises(PermissionDenied):
        directory_entry_update(
            actor=getattr(world, who), member=member, data={"work_phone": "+47 99 99 99 99"}
        )
    member.refresh_from_db()
    assert member.work_phone == "+47 400 00 000"
    assert not DirectoryEntry.objects.exists()
    assert not AuditEntry.objects.filter(action="directory.entry.updated").exists()


def test_the_admin_of_another_school_may_not(world):
    other_admin = add_staff(world, Role.SCHOOL_ADMIN, "Other Admin", school=world.other_school)
    with pytest.raises(PermissionDenied):
        directory_entry_update(
            actor=other_admin.user,
            member=member_of(world.office),
            data={"office_hours": "x"},
        )


@pytest.mark.parametrize("phone", ["9999", "+47 400 00 000 ext 12", "tlf: 40000000", "+" * 12])
def test_a_bad_number_is_refused_and_nothing_is_saved(world, phone):
    member = member_of(world.office)
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        directory_entry_update(
            actor=world.school_admin,
            member=member,
            data={"work_phone": phone, "office_hours": "Måndag 08–16"},
        )
    with translation.override("en"):
        messages = caught.value.message_dict["work_phone"]
    assert "+47 57 00 00 00" in messages[0]
    assert "private" in messages[0]
    member.refresh_from_db()
    assert member.work_phone == "+47 400 00 000"
    assert not DirectoryEntry.objects.exists()


def test_an_empty_number_is_allowed(world):
    member = member_of(world.office)
    directory_entry_update(actor=world.school_admin, member=member, data={"work_phone": ""})
    member.refresh_from_db()
    assert member.work_phone == ""


def test_a_bad_teams_address_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        directory_entry_update(
            actor=world.school_admin,
            member=member_of(world.office),
            data={"teams_address": "not an address"},
        )
    assert "teams_address" in caught.value.message_dict


@pytest.mark.parametrize(
    ("grades", "field"),
    [
        ({"grade_from": 8}, "grade_to"),
        ({"grade_to": 7}, "grade_to"),
        ({"grade_from": 8, "grade_to": 7}, "grade_to"),
        ({"grade_from": 0, "grade_to": 7}, "grade_from"),
        ({"grade_from": 1, "grade_to": 11}, "grade_to"),
    ],
)
def test_the_grades_covered_must_make_sense(world, grades, field):
    with pytest.raises(ValidationError) as caught:
        directory_entry_update(
            actor=world.school_admin, member=member_of(world.office), data=grades
        )
    assert field in caught.value.message_dict
    assert not DirectoryEntry.objects.exists()


def test_a_head_of_stage_covers_some_grades(world):
    head = add_staff(world, Role.HEAD_OF_STAGE, "Head")
    entry = directory_entry_update(
        actor=world.school_admin, member=head, data={"grade_from": 1, "grade_to": 7}
    )
    assert (entry.grade_from, entry.grade_to) == (1, 7)
    assert entry.covers_grade(4) and not entry.covers_grade(9) and entry.covers_grade(None)
    directory_entry_update(
        actor=world.school_admin, member=head, data={"grade_from": None, "grade_to": None}
    )
    entry.refresh_from_db()
    assert entry.grade_from is None and entry.covers_grade(9)


def test_no_change_writes_nothing(world):
    member = member_of(world.office)
    directory_entry_update(actor=world.school_admin, member=member, data={"office_hours": "x"})
    count = AuditEntry.objects.count()
    directory_entry_update(
        actor=world.school_admin,
        member=member,
        data={"office_hours": "x", "work_phone": "+47 400 00 000"},
    )
    assert AuditEntry.objects.count() == count


def test_unknown_fields_are_a_programming_error(world):
    with pytest.raises(ValueError, match="private_phone"):
        directory_entry_update(
            actor=world.school_admin,
            member=member_of(world.office),
            data={"private_phone": "+47 99 99 99 99"},
        )


def test_there_is_no_field_for_a_private_number():
    fields = {f.name for f in StaffMember._meta.get_fields()} | {
        f.name for f in DirectoryEntry._meta.get_fields()
    }
    assert not {name for name in fields if "private" in name or "mobile" in name}
