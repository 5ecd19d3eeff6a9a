"""Staff reach the guardians: who sees their numbers, where, and that each read is
audited; a restricted guardian of a pupil with a protected address is kept from all but
kontor and leiing who passed a second factor."""

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import selectors
from tests.factories import PASSWORD, TOTP_SECRET, every_role

pytestmark = pytest.mark.django_db

READ = "schools.guardian_contacts.read"


@pytest.fixture
def people(world):
    world = every_role(world)
    for guardian, number in (
        (world.guardian_b, "+47 912 34 567"),
        (world.restricted_guardian, "+47 900 00 001"),
    ):
        guardian.phone = number
        guardian.save(update_fields=["phone"])
    return world


def names(contacts):
    return {g.guardian.full_name for g in contacts}


@pytest.mark.parametrize("who", ["contact_teacher_b", "class_team_b", "office", "leadership"])
def test_the_class_and_the_office_see_the_guardians_numbers_and_the_read_is_audited(people, who):
    actor = getattr(people, who)
    contacts = selectors.guardian_contacts(
        actor=actor, pupil=people.protected_child, passed_mfa=False
    )
    assert names(contacts) == {"Guardian B"}  # never the restricted one without a second factor
    entry = AuditEntry.objects.get(action=READ, actor=actor)
    assert entry.detail == {"guardians": 1}


@pytest.mark.parametrize(
    "who", ["teacher_b", "advisor", "social_teacher", "contact_teacher_a", "other_leadership"]
)
def test_others_do_not_see_the_numbers(people, who):
    actor = getattr(people, who)
    assert (
        selectors.guardian_contacts(actor=actor, pupil=people.protected_child, passed_mfa=True)
        is None
    )
    assert not AuditEntry.objects.filter(action=READ).exists()


@pytest.mark.parametrize(
    ("who", "shown"), [("office", True), ("leadership", True), ("contact_teacher_b", False)]
)
def test_a_restricted_guardian_only_for_kontor_and_leiing_with_a_second_factor(people, who, shown):
    actor = getattr(people, who)
    contacts = selectors.guardian_contacts(
        actor=actor, pupil=people.protected_child, passed_mfa=True
    )
    assert ("Restricted Parent" in names(contacts)) is shown


def _mfa_client(user) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    counter = next(iter(yield_hotp_counters_from_time()))
    client.post(
        reverse("mfa_authenticate"), {"code": format_hotp_value(hotp_value(TOTP_SECRET, counter))}
    )
    return client


def test_the_pupil_page_gives_tel_links_and_hides_the_restricted_guardian(people):
    url = reverse("pupil_detail", args=[people.protected_child.pk])
    teacher = Client()
    teacher.force_login(people.contact_teacher_b)
    page = teacher.get(url).content.decode()
    assert 'href="tel:+4791234567"' in page and "Guardian B" in page
    assert "Restricted Parent" not in page and "+47 900 00 001" not in page

    plain = Client()
    plain.force_login(people.teacher_b)
    page = plain.get(url).content.decode()
    assert "Guardian B" in page and "tel:+479" not in page  # a name, no number
    assert "Restricted Parent" not in page

    # Kontor with a second factor passed in this session sees the restricted guardian,
    # marked; without it (a session that skipped it), not.
    office = _mfa_client(people.office)
    page = office.get(url).content.decode()
    assert "Restricted Parent" in page and 'href="tel:+4790000001"' in page
    skipped = Client()
    skipped.force_login(people.office)
    assert "Restricted Parent" not in skipped.get(url).content.decode()


def test_the_contacts_page_one_tap_from_the_sheet(people):
    url = reverse("pupil_guardian_contacts", args=[people.child_b.pk])
    teacher = Client()
    teacher.force_login(people.contact_teacher_a)
    sheet = teacher.get(reverse("attendance_register", args=[people.class_a.pk])).content.decode()
    assert url in sheet
    page = teacher.get(url + "?next=https://evil.example/")
    assert page.status_code == 200 and 'href="https://evil.example/"' not in page.content.decode()
    assert AuditEntry.objects.filter(action=READ, actor=people.contact_teacher_a).count() == 1
    # A plain subject teacher, another class's teacher, a guardian: no page.
    for who in ("teacher_b", "contact_teacher_b", "guardian_b"):
        client = Client()
        client.force_login(getattr(people, who))
        assert client.get(url).status_code == 404


def test_the_lookup_case_gives_the_guardians_numbers(people):
    from kontaktbok.absence.models import LookupCase
    from kontaktbok.core import clock

    case = LookupCase.objects.create(
        pupil=people.child_b,
        school=people.school,
        group=people.class_a,
        date=clock.today(),
        registered_at=clock.now(),
        opened_at=clock.now(),
        escalate_at=clock.now(),
    )
    teacher = Client()
    teacher.force_login(people.contact_teacher_a)
    page = teacher.get(reverse("lookup_case", args=[case.pk])).content.decode()
    assert 'data-testid="lookup-contacts"' in page and 'href="tel:+4791234567"' in page


def test_a_guardian_with_a_mobile_number_only_is_shown_with_the_number(people):
    people.guardian_b.email = None
    people.guardian_b.save(update_fields=["email"])
    teacher = Client()
    teacher.force_login(people.contact_teacher_a)
    url = reverse("pupil_guardian_contacts", args=[people.child_b.pk])
    page = teacher.get(url).content.decode()
    assert 'href="tel:+47912' in page and "mailto:None" not in page and "None" not in page
