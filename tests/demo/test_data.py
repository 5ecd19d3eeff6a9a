import pytest
from django.contrib.auth import get_user_model

from kontaktbok.core.models import AuditEntry
from kontaktbok.demo.data import load_demo
from kontaktbok.schools import access, selectors
from kontaktbok.schools.models import Group, Guardianship, Pupil, School, StaffRole
from tests.conftest import built_for_module

Role = StaffRole.Role


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo school, loaded once for this module: (logins, created)."""
    with built_for_module(django_db_blocker, load_demo) as loaded:
        yield loaded


def test_demo_school_has_every_kind_of_person(demo, db):
    logins, created = demo
    assert created
    school = School.objects.get(name="Vassenden skule")
    assert school.municipality.name == "Sunnfjord kommune"
    classes = Group.objects.filter(school=school, kind=Group.Kind.CLASS)
    assert sorted(classes.values_list("name", flat=True)) == sorted(
        f"{g}{c}" for g in range(1, 11) for c in "AB"
    )
    assert 190 <= Pupil.objects.filter(school=school).count() <= 230
    assert all(g.pupils.count() >= 10 for g in classes)
    assert Pupil.objects.filter(protected_address=True).count() == 1
    assert Guardianship.objects.filter(parental_responsibility=False).exists()
    assert Guardianship.objects.filter(restricted=True, pupil__protected_address=True).exists()
    held = set(StaffRole.objects.values_list("role", flat=True))
    assert {
        Role.CONTACT_TEACHER,
        Role.CLASS_TEAM,
        Role.ADVISOR,
        Role.SOCIAL_TEACHER,
        Role.HEAD_OF_STAGE,
        Role.OFFICE,
        Role.SFO_LEADER,
        Role.LEADERSHIP,
        Role.SCHOOL_ADMIN,
    } <= held
    year = selectors.current_school_year(school)
    assert year is not None and year.holidays.count() >= 5
    assert len(logins.recovery_codes) == 3


def test_demo_guardian_has_a_child_in_each_grade_band(demo, db):
    logins, _ = demo
    guardian = get_user_model().objects.get(email=logins.guardian)
    children = selectors.guardian_children(actor=guardian)
    grades = sorted(child.main_group.grade for child in children)
    assert len(grades) == 2
    assert grades[0] <= 7 < grades[1]
    teacher = get_user_model().objects.get(email=logins.contact_teacher)
    assert any(teacher == t.user for child in children for t in child.contact_teachers)


def test_demo_logins_are_the_only_usable_passwords(demo, db):
    logins, _ = demo
    usable = {u.email for u in get_user_model().objects.all() if u.has_usable_password()}
    assert usable == {
        logins.guardian,
        logins.other_guardian,
        logins.contact_teacher,
        logins.office,
        logins.principal,
    }


def test_loading_again_keeps_existing_data(demo, db):
    pupils = Pupil.objects.count()
    entries = AuditEntry.objects.count()
    logins, created = load_demo()
    assert not created
    assert Pupil.objects.count() == pupils
    assert AuditEntry.objects.count() == entries
    assert logins.guardian


def test_the_restricted_demo_parent_sees_nothing(demo, db):
    restricted = Guardianship.objects.get(restricted=True).guardian
    assert not access.visible_pupils(restricted).exists()


def test_the_logins_are_printed_again_without_loading(demo, db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_demo", "--logins-only", stdout=out)
    printed = out.getvalue()
    logins, _loaded = demo
    assert logins.guardian in printed and logins.password in printed
    assert "was created" not in printed and "exists already" not in printed
