"""A guardian sees the right contacts for each of their own children, and nothing else."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from kontaktbok.directory import selectors
from kontaktbok.directory.services import directory_entry_update
from kontaktbok.schools import services
from tests.directory.helpers import Role, add_staff, member_of, sfo_group

pytestmark = pytest.mark.django_db


def names(found) -> list[str]:
    return [c.name for c in found.contacts]


@pytest.fixture
def school_staff(world):
    """Every role guardians can call, and some they cannot."""
    return {
        "advisor": add_staff(world, Role.ADVISOR, "Rita Rådgjevar"),
        "social": add_staff(world, Role.SOCIAL_TEACHER, "Sofie Sosial"),
        "head_1_7": add_staff(
            world, Role.HEAD_OF_STAGE, "Hanne Barnesteg", grade_from=1, grade_to=7
        ),
        "head_8_10": add_staff(
            world, Role.HEAD_OF_STAGE, "Hans Ungdomssteg", grade_from=8, grade_to=10
        ),
        "sfo": add_staff(world, Role.SFO_LEADER, "Siri SFO"),
        "class_team": add_staff(world, Role.CLASS_TEAM, "Klara Klasseteam", group=world.class_a),
        "teacher": add_staff(world, Role.TEACHER, "Tor Lærar", group=world.class_a),
    }


def test_contacts_in_the_routines_order(world, school_staff):
    found = selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    assert found.pupil == world.child_a
    assert found.main_group == world.class_a
    assert names(found) == [
        "Teacher A",
        "Rita Rådgjevar",
        "Sofie Sosial",
        "Hanne Barnesteg",
        "Office",
        "Principal",
    ]
    assert [c.roles for c in found.contacts] == [
        (Role.CONTACT_TEACHER,),
        (Role.ADVISOR,),
        (Role.SOCIAL_TEACHER,),
        (Role.HEAD_OF_STAGE,),
        (Role.OFFICE,),
        (Role.LEADERSHIP,),
    ]


def test_the_head_of_stage_and_contact_teacher_follow_the_childs_class(world, school_staff):
    found = selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a2.pk)
    assert found.main_group == world.class_b
    assert "Teacher B" in names(found) and "Teacher A" not in names(found)
    assert "Hans Ungdomssteg" in names(found) and "Hanne Barnesteg" not in names(found)


def test_the_sfo_leader_only_for_children_in_sfo(world, school_staff):
    assert "Siri SFO" not in names(
        selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    )
    sfo_group(world).pupils.add(world.child_a)
    found = selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    assert names(found).index("Siri SFO") == names(found).index("Office") + 1
    assert "Siri SFO" not in names(
        selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a2.pk)
    )


def test_a_role_held_for_one_group_is_for_that_groups_pupils(world):
    member = add_staff(world, Role.ADVISOR, "Gro Gruppe")
    member.roles.all().delete()
    services.staff_role_grant(actor=None, member=member, role=Role.ADVISOR, group=world.class_b)
    assert "Gro Gruppe" in names(
        selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a2.pk)
    )
    assert "Gro Gruppe" not in names(
        selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    )


def test_unlisted_and_inactive_staff_are_left_out(world, school_staff):
    directory_entry_update(
        actor=world.school_admin, member=school_staff["advisor"], data={"listed": False}
    )
    social = school_staff["social"].user
    social.is_active = False
    social.save()
    found = selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    assert "Rita Rådgjevar" not in names(found)
    assert "Sofie Sosial" not in names(found)


def test_a_person_with_two_roles_is_listed_once(world):
    member = add_staff(world, Role.ADVISOR, "Dobbel Rolle")
    services.staff_role_grant(actor=None, member=member, role=Role.SOCIAL_TEACHER)
    found = selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    assert names(found).count("Dobbel Rolle") == 1
    contact = next(c for c in found.contacts if c.name == "Dobbel Rolle")
    assert contact.roles == (Role.ADVISOR, Role.SOCIAL_TEACHER)
    assert contact.role_label == "rådgjevar, sosiallærar"  # Nynorsk is the default


def test_call_links(world):
    directory_entry_update(
        actor=world.school_admin,
        member=member_of(world.contact_teacher_a),
        data={
            "work_phone": "+47 57 11 22 33",
            "teams_address": "kari.laerar+4a@skule.test",
            "office_hours": "Måndag–fredag 08.00–15.30",
        },
    )
    found = selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)
    teacher = found.contacts[0]
    assert teacher.tel_link == "tel:+4757112233"
    assert teacher.teams_link == (
        "https://teams.microsoft.com/l/call/0/0?users=kari.laerar%2B4a%40skule.test"
    )
    assert teacher.office_hours == "Måndag–fredag 08.00–15.30"
    office = next(c for c in found.contacts if c.name == "Office")
    assert office.teams_link == "" and office.tel_link == "tel:+4740000000"


def test_never_another_familys_child(world):
    for pupil in (world.child_b, world.protected_child, world.other_child):
        with pytest.raises(Http404):
            selectors.child_contacts(actor=world.guardian_a, pupil_id=pupil.pk)
    for actor in (world.guardian_without_responsibility, world.restricted_guardian):
        child = (
            world.child_b
            if actor == world.guardian_without_responsibility
            else world.protected_child
        )
        with pytest.raises(Http404):
            selectors.child_contacts(actor=actor, pupil_id=child.pk)


def test_staff_are_not_guardians_here(world):
    """Kontor sees every pupil, but the contact list is for the child's guardians."""
    with pytest.raises(Http404):
        selectors.child_contacts(actor=world.office, pupil_id=world.child_a.pk)


def test_the_school_directory_for_staff_and_admin(world, school_staff):
    directory_entry_update(
        actor=world.school_admin, member=school_staff["advisor"], data={"listed": False}
    )
    for_staff = selectors.school_directory(actor=world.contact_teacher_b, school_id=world.school.pk)
    assert not for_staff.may_edit
    staff_names = [c.name for c in for_staff.contacts]
    assert "Rita Rådgjevar" not in staff_names
    assert "Klara Klasseteam" not in staff_names and "Admin" not in staff_names
    assert staff_names == sorted(staff_names)
    teacher_a = next(c for c in for_staff.contacts if c.name == "Teacher A")
    assert teacher_a.groups == ("4A",)
    for_admin = selectors.school_directory(actor=world.school_admin, school_id=world.school.pk)
    assert for_admin.may_edit
    assert "Rita Rådgjevar" in [c.name for c in for_admin.contacts]


def test_the_school_directory_is_for_its_own_staff(world):
    for actor in (world.guardian_a, world.other_leadership):
        with pytest.raises(Http404):
            selectors.school_directory(actor=actor, school_id=world.school.pk)


def test_editable_member_is_for_the_school_admin(world):
    member = member_of(world.contact_teacher_a)
    assert (
        selectors.editable_member(
            actor=world.school_admin, school_id=world.school.pk, member_id=member.pk
        )
        == member
    )
    with pytest.raises(Http404):
        selectors.editable_member(
            actor=world.office, school_id=world.school.pk, member_id=member.pk
        )
    other = add_staff(world, Role.OFFICE, "Elsewhere", school=world.other_school)
    with pytest.raises(Http404):
        selectors.editable_member(
            actor=world.school_admin, school_id=world.school.pk, member_id=other.pk
        )


def _grow(world, count: int) -> None:
    roles = [Role.ADVISOR, Role.SOCIAL_TEACHER, Role.HEAD_OF_STAGE, Role.OFFICE, Role.LEADERSHIP]
    for n in range(count):
        add_staff(world, roles[n % len(roles)], f"Extra {n}", office_hours=f"{n}")


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_child_contacts_take_the_same_queries_for_2_and_20_staff(world):
    def call():
        return selectors.child_contacts(actor=world.guardian_a, pupil_id=world.child_a.pk)

    _grow(world, 2)
    few = _queries(call)
    _grow(world, 18)
    assert len(call().contacts) >= 20
    assert _queries(call) == few == 3


def test_the_school_directory_takes_the_same_queries_for_2_and_20_staff(world):
    def call():
        return selectors.school_directory(actor=world.school_admin, school_id=world.school.pk)

    call()  # the actor's roles are read once per request
    _grow(world, 2)
    few = _queries(call)
    _grow(world, 18)
    assert len(call().contacts) >= 20
    assert _queries(call) == few
