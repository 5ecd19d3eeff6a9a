"""Kontor ends a guardianship from a date, a staff member leaves the school, and a staff
member's Feide id is recorded."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import access, services, tasks
from kontaktbok.schools.models import Guardianship, StaffMember, StaffRole
from tests.schools.test_guardian_contacts import _mfa_client

pytestmark = pytest.mark.django_db


def tie(world):
    return Guardianship.objects.get(guardian=world.guardian_b, pupil=world.child_b)


def test_a_guardianship_ends_after_its_last_day(world):
    today = clock.today()
    kept = services.guardianship_end(actor=world.office, guardianship=tie(world), last_day=today)
    assert kept is not None and kept.ends_on == today
    assert access.visible_pupils(world.guardian_b).filter(pk=world.child_b.pk).exists()
    assert services.end_due_guardianships(today) == 0  # held through the last day
    assert services.end_due_guardianships(today + dt.timedelta(days=1)) == 1
    assert not Guardianship.objects.filter(guardian=world.guardian_b, pupil=world.child_b).exists()
    access.forget_roles(world.guardian_b)
    assert not access.visible_pupils(world.guardian_b).filter(pk=world.child_b.pk).exists()
    entries = AuditEntry.objects.filter(
        pupil_id=world.child_b.pk, action__startswith="schools.guardianship.end"
    )
    assert [e.action for e in entries.order_by("pk")] == [
        "schools.guardianship.ending",
        "schools.guardianship.ended",
    ]


def test_a_last_day_already_past_ends_it_now(world):
    yesterday = clock.today() - dt.timedelta(days=1)
    ending = tie(world)
    kept = services.guardianship_end(actor=world.office, guardianship=ending, last_day=yesterday)
    assert kept is None and not Guardianship.objects.filter(pk=ending.pk).exists()


def test_the_hourly_task_runs_the_ending(world):
    Guardianship.objects.filter(pk=tie(world).pk).update(
        ends_on=clock.today() - dt.timedelta(days=1)
    )
    assert tasks.end_due_guardianships.call() == 1


def test_a_restricted_guardianship_is_ended_only_after_a_second_factor(world):
    restricted = Guardianship.objects.get(guardian=world.restricted_guardian)
    with pytest.raises(ValidationError):
        services.guardianship_end(
            actor=world.office, guardianship=restricted, last_day=clock.today()
        )
    with pytest.raises(PermissionDenied):
        services.guardianship_end(
            actor=world.leadership, guardianship=tie(world), last_day=clock.today()
        )


def test_the_pupil_page_ends_a_guardianship(world):
    client = _mfa_client(world.office)
    response = client.post(
        reverse("guardianship_end", args=[tie(world).pk]), {"last_day": str(clock.today())}
    )
    assert response.url == reverse("pupil_edit", args=[world.child_b.pk])
    page = client.get(response.url).content.decode()
    assert 'data-testid="ending"' in page


def test_a_staff_member_leaves_and_every_role_ends(world):
    member = StaffMember.objects.get(user=world.contact_teacher_b)
    last_day = clock.today() + dt.timedelta(days=10)
    later = services.staff_role_grant(
        actor=None,
        member=member,
        role=StaffRole.Role.TEACHER,
        group=world.class_a,
        starts_on=last_day + dt.timedelta(days=1),
    )
    assert services.staff_leave(actor=world.office, member=member, last_day=last_day) == 2
    assert not StaffRole.objects.filter(pk=later.pk).exists()  # never begun
    assert [r.ends_on for r in member.roles.all()] == [last_day]
    office = StaffMember.objects.get(user=world.office)
    with pytest.raises(ValidationError):  # kontor is a whole-school role
        services.staff_leave(actor=world.school_admin, member=office, last_day=last_day)
    assert (
        services.staff_leave(
            actor=world.school_admin, member=office, last_day=last_day, passed_mfa=True
        )
        == 1
    )


def test_a_feide_id_is_checked_and_belongs_to_one_person(world):
    teacher_a = StaffMember.objects.get(user=world.contact_teacher_a)
    teacher_b = StaffMember.objects.get(user=world.contact_teacher_b)
    services.staff_feide_set(actor=world.office, member=teacher_a, feide_id=" Lise@Skule.no ")
    teacher_a.refresh_from_db()
    assert teacher_a.feide_id == "lise@skule.no"
    for wrong in ("lise", "lise@skule", "a b@skule.no"):
        with pytest.raises(ValidationError):
            services.staff_feide_set(actor=world.office, member=teacher_b, feide_id=wrong)
    with pytest.raises(ValidationError):
        services.staff_feide_set(actor=world.office, member=teacher_b, feide_id="lise@skule.no")
    client = _mfa_client(world.office)
    client.post(reverse("staff_feide", args=[teacher_b.pk]), {"feide_id": "per@skule.no"})
    teacher_b.refresh_from_db()
    assert teacher_b.feide_id == "per@skule.no"
