"""The school admin's settings pages, and form errors in the user's language."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import AbsenceType, School, StaffRole
from tests import factories
from tests.query_counts import assert_same_count, counted


def admin_client(world):
    client = Client()
    client.force_login(world.school_admin)
    return client


def test_admin_saves_settings(world):
    client = admin_client(world)
    url = reverse("school_settings", args=[world.school.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: (v.strftime("%H:%M") if isinstance(v, dt.time) else v) for k, v in data.items()}
    data["report_deadline"] = "08:15"
    response = client.post(url, data)
    assert response.status_code == 302
    assert School.objects.get(pk=world.school.pk).report_deadline == dt.time(8, 15)


def test_the_holiday_form_and_the_settings_form_have_their_own_ids(world):
    page = admin_client(world).get(reverse("school_settings", args=[world.school.pk]))
    html = page.content.decode()
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'for="holiday_name"' in html


def test_bad_input_gets_errors_in_nynorsk_and_saves_nothing(world):
    client = admin_client(world)
    url = reverse("school_settings", args=[world.school.pk])
    response = client.post(
        url,
        {
            "name": "x" * 300,
            "report_deadline": "25:99",
            "escalation_minutes": "90",
            "language": "nn",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Du må rette opp dette:" in html
    assert "Oppgje eit gyldig tidspunkt." in html
    school = School.objects.get(pk=world.school.pk)
    assert school.name == "Skule A"
    assert school.report_deadline == dt.time(8, 30)


def test_bad_input_in_english_when_english_is_chosen(world):
    client = admin_client(world)
    client.cookies["kontaktbok_language"] = "en"
    url = reverse("school_settings", args=[world.school.pk])
    response = client.post(url, {"report_deadline": "25:99"})
    assert "Enter a valid time." in response.content.decode()


def test_admin_adds_an_absence_type(world):
    client = admin_client(world)
    response = client.post(
        reverse("absence_type_create", args=[world.school.pk]),
        {
            "code": "religious",
            "name_nn": "Religiøs høgtid",
            "name_nb": "Religiøs høytid",
            "name_en": "Religious holiday",
            "active": "on",
            "position": "7",
        },
    )
    assert response.status_code == 302
    assert AbsenceType.objects.filter(school=world.school, code="religious").exists()


def test_absence_type_of_another_school_is_404(world):
    foreign = world.other_school.absence_types.first()
    response = admin_client(world).get(
        reverse("absence_type_edit", args=[world.school.pk, foreign.pk])
    )
    assert response.status_code == 404


def _grow_school(world) -> None:
    """Three more classes with their own contact teacher, three pupils each (all children of
    guardian_a, all taught by contact_teacher_b as well), and ten more pupils in 4A and 9B."""
    teacher_b = world.contact_teacher_b.staff_memberships.get()
    for n in range(3):
        group = school_services.group_create(
            actor=None, school_year=world.class_a.school_year, name=f"5{'CDE'[n]}", grade=5
        )
        factories.staff(world.school, StaffRole.Role.CONTACT_TEACHER, group, f"Lærar {n}")
        school_services.staff_role_grant(
            actor=None, member=teacher_b, role=StaffRole.Role.CONTACT_TEACHER, group=group
        )
        for _ in range(3):
            pupil = factories.pupil(group)
            school_services.guardianship_set(actor=None, guardian=world.guardian_a, pupil=pupil)
    for _ in range(10):
        factories.pupil(world.class_a)
        factories.pupil(world.class_b)
    factories.staff(world.school, StaffRole.Role.CONTACT_TEACHER, world.class_a, "Lærar 4A-2")


@pytest.mark.parametrize(
    ("who", "page", "marker", "expected"),
    [
        ("guardian_a", "home", 'data-testid="child"', (2, 11)),
        ("contact_teacher_b", "home", 'href="/pupils/', (2, 21)),
        ("office", "home", 'href="/schools/', (3, 3)),  # overview, pupils, staff
        ("office", "school_overview", 'data-testid="overview-group"', (2, 5)),
        ("office", "group_detail", 'href="/pupils/', (2, 12)),
    ],
)
def test_home_page_query_counts_stay_flat(world, who, page, marker, expected):
    """The pages list children, classes and pupils; growing those costs no query more."""
    client = Client()
    client.force_login(getattr(world, who))
    args = {"home": [], "school_overview": [world.school.pk], "group_detail": [world.class_a.pk]}
    url = reverse(page, args=args[page])
    client.get(url)  # the session's first request saves it once
    few = counted(client, url)
    _grow_school(world)
    many = counted(client, url)
    assert (few.text.count(marker), many.text.count(marker)) == expected
    assert_same_count(few, many)


def test_admin_adds_and_removes_a_holiday(world):
    from kontaktbok.core.models import AuditEntry
    from kontaktbok.schools import selectors

    client = admin_client(world)
    year = world.school.school_years.get()
    response = client.post(
        reverse("holiday_add", args=[world.school.pk]),
        {"name": "Planleggingsdag", "starts_on": "2026-11-27", "ends_on": "2026-11-27"},
    )
    assert response.status_code == 302
    assert dt.date(2026, 11, 27) not in selectors.school_days(
        year, dt.date(2026, 11, 23), dt.date(2026, 11, 27)
    )
    holiday = year.holidays.get(name="Planleggingsdag")
    page = client.get(reverse("school_settings", args=[world.school.pk]))
    assert "Planleggingsdag" in page.content.decode()
    client.post(reverse("holiday_remove", args=[world.school.pk, holiday.pk]))
    assert not year.holidays.filter(name="Planleggingsdag").exists()
    assert AuditEntry.objects.filter(action="schools.holiday.removed").exists()


def test_holiday_outside_the_year_or_backwards_is_refused(world):
    client = admin_client(world)
    url = reverse("holiday_add", args=[world.school.pk])
    before = world.school.school_years.get().holidays.count()
    outside = client.post(
        url, {"name": "Sommar", "starts_on": "2027-07-01", "ends_on": "2027-07-02"}
    )
    backwards = client.post(
        url, {"name": "Feil", "starts_on": "2026-12-02", "ends_on": "2026-12-01"}
    )
    assert outside.status_code == backwards.status_code == 400
    assert "Startdatoen må vere før sluttdatoen." in backwards.content.decode()
    assert world.school.school_years.get().holidays.count() == before


def test_superuser_opens_the_technical_admin(world):
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root@example.test", "x", full_name="R")
    TOTP.activate(root, factories.TOTP_SECRET)
    client = Client()
    client.force_login(root)
    for url in (
        "/admin/",
        "/admin/schools/pupil/",
        "/admin/core/auditentry/",
        "/admin/accounts/user/",
        f"/admin/schools/school/{world.school.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
