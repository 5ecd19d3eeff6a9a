"""Who sees which pupils, groups and schools."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools import services as schools_services
from kontaktbok.schools.models import StaffRole
from kontaktbok.schools.services import guardianship_set
from tests import factories

Role = StaffRole.Role


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def test_guardian_sees_only_own_children_with_parental_responsibility(world):
    assert ids(access.visible_pupils(world.guardian_a)) == {world.child_a.pk, world.child_a2.pk}
    assert ids(access.visible_pupils(world.guardian_b)) == {
        world.child_b.pk,
        world.protected_child.pk,
    }


def test_guardian_without_parental_responsibility_sees_nothing(world):
    assert ids(access.visible_pupils(world.guardian_without_responsibility)) == set()
    client = Client()
    client.force_login(world.guardian_without_responsibility)
    assert client.get(reverse("pupil_detail", args=[world.child_b.pk])).status_code == 404
    assert client.get(reverse("api-1:pupil", args=[world.child_b.pk])).status_code == 404
    assert client.get(reverse("api-1:pupils")).json() == []


def test_protected_address_is_never_shown_to_a_restricted_guardian(world):
    assert ids(access.visible_pupils(world.restricted_guardian)) == set()
    client = Client()
    client.force_login(world.restricted_guardian)
    response = client.get(reverse("home"))
    assert world.protected_child.first_name not in response.content.decode()
    assert client.get(reverse("pupil_detail", args=[world.protected_child.pk])).status_code == 404


def test_losing_parental_responsibility_hides_the_child(world):
    guardianship_set(
        actor=world.office,
        guardian=world.guardian_a,
        pupil=world.child_a,
        parental_responsibility=False,
    )
    assert ids(access.visible_pupils(world.guardian_a)) == {world.child_a2.pk}


def test_contact_teacher_sees_own_group_only(world):
    teacher = world.contact_teacher_b
    assert ids(access.visible_groups(teacher)) == {world.class_b.pk}
    assert ids(access.visible_pupils(teacher)) == {world.child_a2.pk, world.protected_child.pk}


def test_office_and_leadership_see_their_whole_school_and_nothing_else(world):
    school_pupils = {
        world.child_a.pk,
        world.child_a2.pk,
        world.child_b.pk,
        world.protected_child.pk,
    }
    for actor in (world.office, world.leadership):
        assert ids(access.visible_pupils(actor)) == school_pupils
        assert world.other_child.pk not in ids(access.visible_pupils(actor))
    assert ids(access.visible_pupils(world.other_leadership)) == {world.other_child.pk}


def test_advisor_without_groups_sees_no_pupils(world):
    advisor = factories.staff(world.school, Role.ADVISOR)
    assert ids(access.visible_pupils(advisor)) == set()
    assert ids(access.visible_schools(advisor)) == {world.school.pk}


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not access.visible_pupils(AnonymousUser()).exists()
    assert not access.visible_groups(None).exists()


def test_guardian_b_cannot_reach_guardian_a_child_by_any_url(world):
    """Every URL that takes a pupil, group or school id, tried with guardian A's child."""
    client = Client()
    client.force_login(world.guardian_b)
    urls = [
        reverse("pupil_detail", args=[world.child_a.pk]),
        reverse("api-1:pupil", args=[world.child_a.pk]),
        reverse("group_detail", args=[world.class_a.pk]),
        reverse("school_overview", args=[world.school.pk]),
        reverse("school_settings", args=[world.school.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert world.child_a.first_name not in response.content.decode()
    listing = client.get(reverse("api-1:pupils")).json()
    assert world.child_a.pk not in {p["id"] for p in listing}
    home = client.get(reverse("home")).content.decode()
    assert world.child_a.first_name not in home
    assert world.child_b.first_name in home


def test_roles_are_read_once_per_user_object(world, django_assert_num_queries):
    access.forget_roles(world.office)
    with django_assert_num_queries(1):  # the staff roles and guardianship in one round trip
        access.roles_of(world.office)
        access.roles_of(world.office)


def test_a_role_held_only_last_year_sees_nothing_of_this_years_pupils(world):
    # Aksel and Vern were in 8B last year and are in 9B now; 8B's contact teacher has no role
    # this year.
    world = factories.every_role(world)
    teacher = world.last_year_teacher
    assert ids(access.visible_pupils(teacher)) == set()
    assert ids(access.visible_groups(teacher)) == set()
    assert access.roles_of(teacher) == access.ActorRoles()
    client = Client()
    client.force_login(teacher)
    assert client.get(reverse("pupil_detail", args=[world.child_a2.pk])).status_code == 404
    assert client.get(reverse("group_detail", args=[world.last_year_class.pk])).status_code == 404
    assert client.get(reverse("api-1:pupils")).json() == []


def test_a_whole_school_role_ends_on_its_last_day(world):
    """Kontor who left the school: the role counts up to and including its last day, and from
    the day after the person sees no pupil, no group, no school page, and is told nothing."""
    role = StaffRole.objects.get(member__user=world.office, role=Role.OFFICE)
    schools_services.staff_role_end(actor=world.school_admin, role=role, last_day=clock.today())
    assert ids(access.visible_pupils(world.office)) == {
        p.pk for p in (world.child_a, world.child_a2, world.child_b, world.protected_child)
    }
    assert world.office in school_selectors.staff_holding(world.school.pk, [Role.OFFICE])
    with time_machine.travel(dt.datetime(2026, 11, 25, 7, 0, tzinfo=clock.SCHOOL_TZ)):
        access.forget_roles(world.office)
        assert access.roles_of(world.office) == access.ActorRoles()
        assert ids(access.visible_pupils(world.office)) == set()
        assert ids(access.visible_groups(world.office)) == set()
        assert world.office not in school_selectors.staff_holding(world.school.pk, [Role.OFFICE])
        client = Client()
        client.force_login(world.office)
        assert client.get(reverse("pupil_detail", args=[world.child_a.pk])).status_code == 404
    entry = AuditEntry.objects.get(action="schools.role.ended")
    assert entry.detail == {"role": Role.OFFICE, "last_day": "2026-11-24"}


def test_a_role_that_has_not_begun_gives_nothing_yet(world):
    member = factories.staff_member(world.school, "New Office")
    schools_services.staff_role_grant(
        actor=world.school_admin,
        member=member,
        role=Role.OFFICE,
        starts_on=dt.date(2026, 12, 1),
    )
    assert access.roles_of(member.user) == access.ActorRoles()
    with time_machine.travel(dt.datetime(2026, 12, 1, 7, 0, tzinfo=clock.SCHOOL_TZ)):
        access.forget_roles(member.user)
        assert access.roles_of(member.user).has_school_role(world.school.pk, Role.OFFICE)


def test_a_role_cannot_end_before_it_begins(world):
    member = factories.staff_member(world.school, "New Office")
    with pytest.raises(ValidationError):
        schools_services.staff_role_grant(
            actor=None,
            member=member,
            role=Role.OFFICE,
            starts_on=dt.date(2026, 12, 1),
            ends_on=dt.date(2026, 11, 30),
        )
