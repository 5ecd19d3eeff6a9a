"""Kontor keeps the school's pupils: the list with search, adding and changing a pupil;
every change audited; a protected address only with a second factor; leiing reads."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import services
from kontaktbok.schools.identity import make_test_nin
from kontaktbok.schools.models import Pupil
from kontaktbok.schools.phones import mobile_number
from tests.schools.test_guardian_contacts import _mfa_client

pytestmark = pytest.mark.django_db

BORN = dt.date(2016, 3, 3)


def nin(individual: int = 100) -> str:
    found = next(n for i in range(individual, individual + 50) if (n := make_test_nin("030316", i)))
    return found


def test_kontor_adds_a_pupil_to_a_class_and_it_is_audited(world):
    number = nin()
    pupil = services.pupil_add(
        actor=world.office,
        school=world.school,
        first_name=" Ola ",
        last_name="Nordmann",
        date_of_birth=BORN,
        nin=number,
        class_group=world.class_a,
    )
    assert pupil.first_name == "Ola" and pupil.nin_digest and number not in pupil.nin_digest
    assert list(pupil.groups.all()) == [world.class_a]
    assert AuditEntry.objects.filter(action="schools.pupil.created", pupil_id=pupil.pk).count() == 1
    with pytest.raises(ValidationError) as refused:  # the same pupil twice
        services.pupil_add(
            actor=world.office,
            school=world.school,
            first_name="Ola",
            last_name="Nordmann",
            date_of_birth=BORN,
            nin=number,
        )
    assert "nin" in refused.value.message_dict
    assert Pupil.objects.filter(last_name="Nordmann").count() == 1


@pytest.mark.parametrize(
    "who", ["leadership", "contact_teacher_a", "guardian_a", "other_leadership"]
)
def test_only_kontor_and_the_school_admin_change_people(world, who):
    with pytest.raises(PermissionDenied):
        services.pupil_add(
            actor=getattr(world, who),
            school=world.school,
            first_name="X",
            last_name="Y",
            date_of_birth=BORN,
        )


def test_a_protected_address_needs_a_second_factor_in_this_session(world):
    kwargs = {
        "actor": world.office,
        "pupil": world.child_a,
        "first_name": world.child_a.first_name,
        "last_name": world.child_a.last_name,
        "date_of_birth": world.child_a.date_of_birth,
        "class_group": world.class_a,
        "protected_address": True,
    }
    with pytest.raises(ValidationError):
        services.pupil_update(**kwargs, passed_mfa=False)
    world.child_a.refresh_from_db()
    assert not world.child_a.protected_address
    services.pupil_update(**kwargs, passed_mfa=True)
    world.child_a.refresh_from_db()
    assert world.child_a.protected_address
    entry = AuditEntry.objects.get(action="schools.pupil.updated")
    assert entry.detail == {"changed": ["protected_address"]} and entry.role == "office"


def test_moving_a_pupil_to_another_class(world):
    services.pupil_update(
        actor=world.office,
        pupil=world.child_a,
        first_name="Anna",
        last_name=world.child_a.last_name,
        date_of_birth=world.child_a.date_of_birth,
        class_group=world.class_b,
        protected_address=False,
    )
    assert list(world.child_a.groups.all()) == [world.class_b]
    assert "class" in AuditEntry.objects.get(action="schools.pupil.updated").detail["changed"]
    with pytest.raises(ValidationError):  # another school's class
        services.pupil_update(
            actor=world.office,
            pupil=world.child_a,
            first_name="Anna",
            last_name=world.child_a.last_name,
            date_of_birth=world.child_a.date_of_birth,
            class_group=world.other_child.groups.get(),
            protected_address=False,
        )
    assert list(world.child_a.groups.all()) == [world.class_b]


def test_the_pages_list_search_add_and_change(world):
    office = _mfa_client(world.office)
    url = reverse("people_pupils", args=[world.school.pk])
    page = office.get(url, {"q": "Aksel"}).content.decode()
    assert "Aksel" in page and "Anna" not in page
    add = reverse("pupil_add", args=[world.school.pk])
    bad = office.post(
        add,
        {
            "first_name": "Kari",
            "last_name": "",
            "date_of_birth": "2016-03-03",
            "nin": "12345678901",
        },
    )
    assert bad.status_code == 400
    assert not Pupil.objects.filter(first_name="Kari").exists()
    assert 'value="Kari"' in bad.content.decode()  # what was typed stays
    done = office.post(
        add,
        {
            "first_name": "Kari",
            "last_name": "Nordmann",
            "date_of_birth": "2016-03-03",
            "nin": nin(200),
            "class_group": world.class_a.pk,
            "protected_address": "on",
        },
    )
    pupil = Pupil.objects.get(first_name="Kari")
    assert done["Location"] == reverse("pupil_detail", args=[pupil.pk])
    assert pupil.protected_address  # kontor passed a second factor in this session
    edit = reverse("pupil_edit", args=[pupil.pk])
    office.post(
        edit,
        {
            "first_name": "Kari",
            "last_name": "Nordmann-Li",
            "date_of_birth": "2016-03-03",
            "protected_address": "on",
        },
    )
    pupil.refresh_from_db()
    assert pupil.last_name == "Nordmann-Li" and not pupil.groups.exists()

    leadership = Client()
    leadership.force_login(world.leadership)
    listing = leadership.get(url).content.decode()
    assert "Nordmann-Li" in listing and edit not in listing  # leiing reads
    assert leadership.get(edit).status_code == 404


# --- guardians --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("91234567", "+47 91 23 45 67"),
        ("+47 412 34 567", "+47 41 23 45 67"),
        ("0046 70 123 45 67", "+46 70 123 45 67"),
    ],
)
def test_mobile_numbers_norwegian_and_foreign(typed, stored):
    assert mobile_number(typed) == stored


@pytest.mark.parametrize("typed", ["57 72 40 04", "ring meg", "123", "+47 800 12 345"])
def test_numbers_that_cannot_receive_sms_are_refused(typed):
    with pytest.raises(ValidationError):
        mobile_number(typed)


def test_kontor_adds_a_guardian_and_links_a_known_person(world):
    added = services.guardian_add(
        actor=world.office,
        pupil=world.child_a,
        full_name="Kari Nordmann",
        email="Kari@Example.test",
        phone="912 34 567",
        parental_responsibility=False,
        lives_with_pupil=False,
    )
    assert added.guardian.email == "kari@example.test" and added.guardian.phone == "+47 91 23 45 67"
    assert not added.parental_responsibility and not added.may_receive_information
    assert not added.guardian.has_usable_password()
    # Known by the address: linked as they are, to another pupil.
    linked = services.guardian_add(
        actor=world.office, pupil=world.child_a2, full_name="Other Name", email="kari@example.test"
    )
    assert linked.guardian == added.guardian and linked.guardian.full_name == "Kari Nordmann"
    with pytest.raises(ValidationError):  # twice for the same pupil
        services.guardian_add(
            actor=world.office, pupil=world.child_a, full_name="Kari", email="kari@example.test"
        )
    made = AuditEntry.objects.filter(action="schools.guardianship.created", actor=world.office)
    assert sorted(made.values_list("pupil_id", flat=True)) == sorted(
        [world.child_a.pk, world.child_a2.pk]
    )


def test_a_restricted_guardian_needs_a_second_factor_and_a_bad_number_writes_nothing(world):
    kwargs = {
        "actor": world.office,
        "pupil": world.protected_child,
        "full_name": "R",
        "restricted": True,
    }
    with pytest.raises(ValidationError):
        services.guardian_add(**kwargs, email="r@example.test", passed_mfa=False)
    with pytest.raises(ValidationError):
        services.guardian_add(
            **kwargs, email="r@example.test", phone="57 72 40 04", passed_mfa=True
        )
    from kontaktbok.accounts.models import User

    assert not User.objects.filter(email="r@example.test").exists()
    made = services.guardian_add(**kwargs, email="r@example.test", passed_mfa=True)
    assert made.restricted


def test_the_guardian_page_keeps_what_was_typed(world):
    office = _mfa_client(world.office)
    url = reverse("guardian_add", args=[world.child_b.pk])
    bad = office.post(
        url, {"full_name": "Per", "email": "per@example.test", "phone": "57 72 40 04"}
    )
    assert bad.status_code == 400 and 'value="Per"' in bad.content.decode()
    good = office.post(
        url,
        {
            "full_name": "Per",
            "email": "per@example.test",
            "phone": "41234567",
            "parental_responsibility": "on",
        },
    )
    assert good["Location"] == reverse("pupil_detail", args=[world.child_b.pk])
    teacher = Client()
    teacher.force_login(world.contact_teacher_a)
    page = teacher.get(good["Location"]).content.decode()
    assert "Per" in page and 'href="tel:+4741234567"' in page


# --- staff and roles ----------------------------------------------------------------------


def test_kontor_adds_a_staff_member_and_gives_a_class_role(world):
    member = services.staff_add(
        actor=world.office,
        school=world.school,
        full_name="Liv Lærar",
        email="liv@skule.test",
        work_phone="57 72 40 04",
        title="Kontaktlærar 4A",
    )
    assert member.work_phone == "+47 57 72 40 04" and member.user.full_name == "Liv Lærar"
    role = services.role_give(
        actor=world.office, member=member, role="contact_teacher", group=world.class_a
    )
    from kontaktbok.schools import access

    assert world.class_a.pk in access.roles_of(member.user).group_roles  # roles not cached stale
    with pytest.raises(ValidationError):  # already on the staff
        services.staff_add(
            actor=world.office, school=world.school, full_name="Liv", email="LIV@skule.test"
        )
    services.role_take(actor=world.office, role=role, last_day=dt.date(2026, 11, 23))
    member.user.refresh_from_db()
    assert world.class_a.pk not in access.roles_of(member.user).group_roles
    actions = set(AuditEntry.objects.filter(actor=world.office).values_list("action", flat=True))
    assert {"schools.staff.created", "schools.role.granted", "schools.role.ended"} <= actions


def test_a_whole_school_role_needs_a_second_factor(world):
    member = services.staff_add(
        actor=world.office, school=world.school, full_name="Ny Rektor", email="rektor@skule.test"
    )
    with pytest.raises(ValidationError):
        services.role_give(actor=world.office, member=member, role="leadership")
    with pytest.raises(ValidationError):  # a whole-school role is not for one group
        services.role_give(
            actor=world.office, member=member, role="office", group=world.class_a, passed_mfa=True
        )
    services.role_give(actor=world.office, member=member, role="leadership", passed_mfa=True)
    assert member.roles.get().role == "leadership"


@pytest.mark.parametrize("who", ["leadership", "contact_teacher_a", "other_leadership"])
def test_only_kontor_and_the_school_admin_change_staff(world, who):
    member = services.staff_add(
        actor=world.office, school=world.school, full_name="X", email="x@skule.test"
    )
    with pytest.raises(PermissionDenied):
        services.role_give(
            actor=getattr(world, who), member=member, role="teacher", group=world.class_a
        )


def test_the_staff_pages(world):
    office = _mfa_client(world.office)
    listing = office.get(reverse("staff_list", args=[world.school.pk])).content.decode()
    assert "Teacher A" in listing
    done = office.post(
        reverse("staff_add", args=[world.school.pk]),
        {"full_name": "Liv Lærar", "email": "liv@skule.test", "work_phone": ""},
    )
    member_url = done["Location"]
    member_id = int(member_url.rstrip("/").split("/")[-2])
    assert member_url == reverse("staff_roles", args=[member_id])
    bad = office.post(member_url, {"role": "contact_teacher"})  # a group role without a group
    assert bad.status_code == 400
    office.post(member_url, {"role": "contact_teacher", "group": world.class_a.pk})
    page = office.get(member_url).content.decode()
    assert 'data-testid="role"' in page and "4A" in page
    from kontaktbok.schools.models import StaffRole

    role = StaffRole.objects.get(member_id=member_id)
    office.post(reverse("role_end", args=[member_id, role.pk]), {"last_day": "2026-11-23"})
    role.refresh_from_db()
    assert role.ends_on == dt.date(2026, 11, 23)

    leadership = Client()
    leadership.force_login(world.leadership)
    assert (
        "Liv Lærar"
        in leadership.get(reverse("staff_list", args=[world.school.pk])).content.decode()
    )
    assert leadership.get(member_url).status_code == 404


def test_a_pupil_who_leaves_is_in_no_group_but_kept(world):
    services.pupil_leave(actor=world.office, pupil=world.child_b, last_day=dt.date(2026, 11, 24))
    world.child_b.refresh_from_db()
    assert world.child_b.left_on == dt.date(2026, 11, 24) and not world.child_b.groups.exists()
    assert Pupil.objects.filter(pk=world.child_b.pk).exists()
    with pytest.raises(ValidationError):  # twice
        services.pupil_leave(
            actor=world.office, pupil=world.child_b, last_day=dt.date(2026, 11, 24)
        )
    with pytest.raises(PermissionDenied):
        services.pupil_leave(
            actor=world.leadership, pupil=world.child_a, last_day=dt.date(2026, 11, 24)
        )
    entry = AuditEntry.objects.get(action="schools.pupil.left")
    assert entry.pupil_id == world.child_b.pk and entry.detail["groups"] == [world.class_a.pk]

    office = _mfa_client(world.office)
    page = office.get(reverse("people_pupils", args=[world.school.pk])).content.decode()
    assert 'data-testid="left-tag"' in page
    response = office.post(
        reverse("pupil_leave", args=[world.child_a.pk]), {"last_day": "nonsense"}
    )
    assert response.status_code == 302
    world.child_a.refresh_from_db()
    assert world.child_a.left_on is None


def test_a_pupil_leaving_on_a_later_day_stays_in_class_until_then(world):
    office = _mfa_client(world.office)
    url = reverse("pupil_leave", args=[world.child_a.pk])
    response = office.post(url, {"last_day": "2026-12-11"})
    assert response.url == reverse("pupil_edit", args=[world.child_a.pk])
    world.child_a.refresh_from_db()
    assert world.child_a.left_on == dt.date(2026, 12, 11)
    assert world.child_a.groups.filter(pk=world.class_a.pk).exists()
    page = office.get(response.url).content.decode()
    assert 'data-testid="leaving"' in page and "11.12.2026" in page
    office.post(url, {"last_day": "2026-12-18"})  # the day changed: still possible
    world.child_a.refresh_from_db()
    assert world.child_a.left_on == dt.date(2026, 12, 18)
    assert AuditEntry.objects.filter(action="schools.pupil.leaving").count() == 2

    assert services.remove_left_pupils(dt.date(2026, 12, 18)) == 0  # the last day itself
    assert world.child_a.groups.exists()
    assert services.remove_left_pupils(dt.date(2026, 12, 19)) == 1
    assert not world.child_a.groups.exists()
    assert services.remove_left_pupils(dt.date(2026, 12, 20)) == 0
    entry = AuditEntry.objects.get(action="schools.pupil.left")
    assert entry.detail == {"last_day": "2026-12-18", "groups": [world.class_a.pk]}
    with (
        time_machine.travel(dt.datetime(2026, 12, 19, 9, 0), tick=False),
        pytest.raises(ValidationError),  # left now: the day is history
    ):
        services.pupil_leave(
            actor=world.office, pupil=world.child_a, last_day=dt.date(2026, 12, 31)
        )


def test_kontor_changes_a_guardianship_and_a_restricted_one_only_with_a_second_factor(world):
    from kontaktbok.schools.models import Guardianship

    office = _mfa_client(world.office)
    plain = Client()
    plain.force_login(world.office)  # a session that skipped the second factor
    mine = Guardianship.objects.get(guardian=world.guardian_b, pupil=world.child_b)
    restricted = Guardianship.objects.get(guardian=world.restricted_guardian)
    edit = reverse("pupil_edit", args=[world.protected_child.pk])
    assert "Restricted Parent" not in plain.get(edit).content.decode()
    assert "Restricted Parent" in office.get(edit).content.decode()
    change = reverse("guardianship_change", args=[restricted.pk])
    assert plain.post(change, {"restricted": "on"}).status_code == 404

    plain.post(reverse("guardianship_change", args=[mine.pk]), {"lives_with_pupil": "on"})
    mine.refresh_from_db()
    assert not mine.parental_responsibility and not mine.may_receive_information
    plain.post(reverse("guardianship_change", args=[mine.pk]), {"restricted": "on"})
    mine.refresh_from_db()
    assert not mine.restricted  # needs the second factor
    office.post(change, {"parental_responsibility": "on"})
    restricted.refresh_from_db()
    assert not restricted.restricted and restricted.parental_responsibility
