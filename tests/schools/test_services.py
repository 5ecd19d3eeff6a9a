import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import services
from kontaktbok.schools.identity import is_valid_nin
from kontaktbok.schools.models import AbsenceType, Pupil, School, StaffRole
from tests import factories

Role = StaffRole.Role


def test_new_school_has_the_routine_defaults(db):
    school = factories.school()
    assert school.report_deadline == dt.time(8, 30)
    assert school.check_deadline == dt.time(9, 0)
    assert school.escalation_minutes == 40
    names = list(AbsenceType.objects.filter(school=school).values_list("name_nn", flat=True))
    assert names == [
        "Sjuk",
        "Lege",
        "Tannlege",
        "Gravferd",
        "Sjukehus/spesialist",
        "Anna fråvær (timar)",
    ]


def test_school_admin_changes_settings_with_audit(world):
    school = services.school_settings_update(
        actor=world.school_admin,
        school=world.school,
        data={"report_deadline": dt.time(8, 15), "escalation_minutes": 35},
    )
    assert school.report_deadline == dt.time(8, 15)
    entry = AuditEntry.objects.get(action="schools.settings.updated")
    assert entry.actor == world.school_admin
    assert entry.school_id == world.school.pk
    assert entry.detail["changed"]["escalation_minutes"] == ["40", "35"]


@pytest.mark.parametrize("actor", ["office", "leadership", "guardian_a", "other_leadership"])
def test_only_the_school_admin_changes_settings(world, actor):
    with pytest.raises(PermissionDenied):
        services.school_settings_update(
            actor=getattr(world, actor), school=world.school, data={"escalation_minutes": 35}
        )


@pytest.mark.parametrize(
    "data",
    [
        {"escalation_minutes": 90},
        {"escalation_minutes": 20},
        {"first_lesson_start": dt.time(10, 0), "first_lesson_end": dt.time(9, 0)},
        {"first_break_start": dt.time(8, 0)},
    ],
)
def test_invalid_settings_save_nothing(world, data):
    before = School.objects.get(pk=world.school.pk)
    with pytest.raises(ValidationError):
        services.school_settings_update(
            actor=world.school_admin,
            school=world.school,
            data={"report_deadline": dt.time(7, 0), **data},
        )
    after = School.objects.get(pk=world.school.pk)
    assert after.report_deadline == before.report_deadline
    assert after.escalation_minutes == before.escalation_minutes
    assert not AuditEntry.objects.filter(action="schools.settings.updated").exists()


def test_absence_type_added_and_switched_off(world):
    item = services.absence_type_save(
        actor=world.school_admin,
        school=world.school,
        absence_type=None,
        data={
            "code": "religious",
            "name_nn": "Religiøs høgtid",
            "name_nb": "Religiøs høytid",
            "name_en": "Religious holiday",
            "position": 9,
        },
    )
    services.absence_type_save(
        actor=world.school_admin, school=world.school, absence_type=item, data={"active": False}
    )
    item.refresh_from_db()
    assert item.active is False
    with pytest.raises(ValidationError):
        services.absence_type_save(
            actor=world.school_admin,
            school=world.school,
            absence_type=None,
            data={"code": "sick", "name_nn": "x", "name_nb": "x", "name_en": "x"},
        )


def test_absence_type_of_another_school_cannot_be_changed(world):
    foreign = world.other_school.absence_types.first()
    with pytest.raises(PermissionDenied):
        services.absence_type_save(
            actor=world.school_admin,
            school=world.school,
            absence_type=foreign,
            data={"active": False},
        )


def test_identity_number_is_stored_only_as_digest(world):
    born = dt.date(2015, 3, 4)
    nin = factories.nin_for(born)
    pupil = services.pupil_create(
        actor=None,
        school=world.school,
        first_name="Ein",
        last_name="Elev",
        date_of_birth=born,
        nin=nin,
    )
    stored = Pupil.objects.filter(pk=pupil.pk).values()[0]
    assert nin not in str(stored)
    assert len(pupil.nin_digest) == 64
    assert nin not in str(list(AuditEntry.objects.values()))


def test_invalid_identity_number_is_refused(world):
    with pytest.raises(ValidationError):
        services.pupil_create(
            actor=None,
            school=world.school,
            first_name="Ein",
            last_name="Elev",
            date_of_birth=dt.date(2015, 3, 4),
            nin="12345678901",
        )
    assert not Pupil.objects.filter(first_name="Ein").exists()


def test_nin_checksum():
    assert is_valid_nin(factories.nin_for(dt.date(2016, 5, 17)))
    assert not is_valid_nin("1234")
    assert not is_valid_nin("abcdefghijk")


def test_group_role_needs_a_group(world):
    member = factories.staff_member(world.school)
    with pytest.raises(ValidationError):
        services.staff_role_grant(actor=None, member=member, role=Role.CONTACT_TEACHER)
    with pytest.raises(ValidationError):
        services.staff_role_grant(
            actor=None, member=member, role=Role.CLASS_TEAM, group=world.other_child.groups.first()
        )


def test_holiday_outside_the_year_is_refused(world):
    with pytest.raises(ValidationError):
        services.school_year_create(
            actor=None,
            school=world.school,
            name="2027–2028",
            starts_on=dt.date(2027, 8, 16),
            ends_on=dt.date(2028, 6, 20),
            holidays=[("Feil", dt.date(2028, 7, 1), dt.date(2028, 7, 2))],
        )
    assert not world.school.school_years.filter(name="2027–2028").exists()
