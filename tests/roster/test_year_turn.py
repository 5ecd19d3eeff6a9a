"""The school year turns: next year's calendar and classes, pupils one grade up, the 10th
graders leaving; last year's staff roles no longer show the pupils."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.roster import year_turn
from kontaktbok.schools import access, services
from kontaktbok.schools.calendars import municipal_calendar_set
from kontaktbok.schools.models import Group, MunicipalCalendar, SchoolYear
from tests import factories
from tests.schools.test_guardian_contacts import _mfa_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenth(world):
    year = world.class_a.school_year
    group = services.group_create(actor=None, school_year=year, name="10C", grade=10)
    return factories.pupil(group, "Tiande")


def test_the_preview_shows_next_years_classes_and_who_leaves(world, tenth):
    turn = year_turn.year_turn_plan(world.school)
    assert turn.name == "2027–2028"
    assert turn.starts_on == dt.date(2027, 8, 16) and turn.starts_on.weekday() == 0
    assert [(s.old_name, s.new_name, len(s.pupil_ids)) for s in turn.classes] == [
        ("4A", "5A", 2),
        ("9B", "10B", 2),
    ]
    assert [name for _pk, name, _class in turn.leaving] == [tenth.full_name]
    assert turn.holidays == [("Haustferie", dt.date(2027, 9, 27), dt.date(2027, 10, 1))]
    assert not SchoolYear.objects.filter(name="2027–2028").exists()  # nothing written


def test_turning_the_year_moves_pupils_up_and_last_years_roles_lapse(world, tenth):
    year = year_turn.year_turn_apply(actor=world.office, school=world.school)
    five_a = Group.objects.get(school_year=year, name="5A")
    assert five_a.grade == 5 and set(five_a.pupils.all()) == {world.child_a, world.child_b}
    tenth.refresh_from_db()
    assert tenth.left_on == dt.date(2027, 6, 18)
    assert year.holidays.count() == 1
    entry = AuditEntry.objects.get(action="schools.school_year.turned")
    assert entry.detail == {
        "from": "2026–2027",
        "classes": 2,
        "pupils_moved": 4,
        "pupils_left": 1,
        "calendar": "last year",
    }
    with pytest.raises(ValidationError):  # a second tap makes nothing twice
        year_turn.year_turn_apply(actor=world.office, school=world.school)
    assert SchoolYear.objects.filter(school=world.school).count() == 2
    # This year 4A's contact teacher sees Anna; next year, without a role for 5A, not.
    assert access.visible_pupils(world.contact_teacher_a).filter(pk=world.child_a.pk).exists()
    with time_machine.travel(dt.datetime(2027, 8, 17, 9, 0), tick=False):
        access.forget_roles(world.contact_teacher_a)
        seen = access.visible_pupils(world.contact_teacher_a)
        assert not seen.filter(pk=world.child_a.pk).exists()


def test_only_those_who_keep_the_people_turn_the_year(world):
    with pytest.raises(PermissionDenied):
        year_turn.year_turn_apply(actor=world.leadership, school=world.school)


def test_the_page_previews_then_turns(world, tenth):
    client = _mfa_client(world.office)
    url = reverse("year_turn", args=[world.school.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="class-step"' in page and "10B" in page
    response = client.post(url)
    assert response.url == reverse("staff_list", args=[world.school.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="refusal"' in page and 'data-testid="turn"' not in page


def _municipal_calendar(world):
    call_command(
        "school_calendar",
        "--municipality",
        world.school.municipality.org_number,
        "--name",
        "2027/28",
        "--first-day",
        "2027-08-19",
        "--last-day",
        "2028-06-20",
        "--holiday",
        "Haustferie",
        "2027-10-04",
        "2027-10-08",
        "--holiday",
        "Juleferie",
        "2027-12-22",
        "2028-01-02",
    )


def test_the_municipalitys_calendar_is_taken_when_it_has_set_one(world):
    _municipal_calendar(world)
    turn = year_turn.year_turn_plan(world.school)
    assert turn.from_municipality
    assert (turn.name, turn.starts_on, turn.ends_on) == (
        "2027/28",
        dt.date(2027, 8, 19),
        dt.date(2028, 6, 20),
    )
    assert [name for name, _start, _end in turn.holidays] == ["Haustferie", "Juleferie"]
    year = year_turn.year_turn_apply(actor=world.office, school=world.school)
    assert list(year.holidays.values_list("name", "starts_on")) == [
        ("Haustferie", dt.date(2027, 10, 4)),
        ("Juleferie", dt.date(2027, 12, 22)),
    ]
    entry = AuditEntry.objects.get(action="schools.school_year.turned")
    assert entry.detail["calendar"] == "municipality"


def test_the_page_says_whose_calendar_it_is(world):
    client = _mfa_client(world.office)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("year_turn", args=[world.school.pk])
    assert "last year's calendar" in client.get(url).content.decode()
    _municipal_calendar(world)
    assert "the municipality has set for all its schools" in client.get(url).content.decode()


def test_setting_the_calendar_again_changes_it_and_bad_dates_are_refused(world):
    _municipal_calendar(world)
    municipality = world.school.municipality
    municipal_calendar_set(
        actor=None,
        municipality=municipality,
        name="2027/28",
        starts_on=dt.date(2027, 8, 18),
        ends_on=dt.date(2028, 6, 20),
        holidays=[],
    )
    calendar = MunicipalCalendar.objects.get(municipality=municipality)
    assert calendar.starts_on == dt.date(2027, 8, 18) and calendar.holidays == []
    assert AuditEntry.objects.filter(action="schools.municipal_calendar.changed").exists()
    outside = [("Sommarferie", dt.date(2028, 6, 21), dt.date(2028, 8, 1))]
    for starts_on, holidays in [(dt.date(2028, 7, 1), []), (dt.date(2027, 8, 18), outside)]:
        with pytest.raises(ValidationError):
            municipal_calendar_set(
                actor=None,
                municipality=municipality,
                name="2027/28",
                starts_on=starts_on,
                ends_on=dt.date(2028, 6, 20),
                holidays=holidays,
            )
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "school_calendar",
            "--municipality",
            municipality.org_number,
            "--name",
            "x",
            "--first-day",
            "19.08.2027",
            "--last-day",
            "2028-06-20",
        )
    assert MunicipalCalendar.objects.get().starts_on == dt.date(2027, 8, 18)  # unchanged
