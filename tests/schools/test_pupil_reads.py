"""A guardian sees who at the school has read what about their child, and when."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import selectors
from tests.leave.helpers import apply

pytestmark = pytest.mark.django_db


def test_the_guardian_sees_the_staff_reads_of_their_child_and_not_their_own(world):
    child = world.child_a
    teacher = Client()
    teacher.force_login(world.contact_teacher_a)
    teacher.get(reverse("pupil_detail", args=[child.pk]))  # the page and the contact data
    teacher.get(reverse("pupil_absence_history", args=[child.pk]))
    guardian = Client()
    guardian.force_login(world.guardian_a)
    guardian.get(reverse("pupil_detail", args=[child.pk]))  # their own read: not listed

    page = guardian.get(reverse("pupil_reads", args=[child.pk]))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="read"') == 3
    with translation.override("en"):
        _pupil, _page, reads = selectors.pupil_reads(
            actor=world.guardian_a, pupil_id=child.pk, page=1
        )
    assert {r.what for r in reads} == {
        "the pupil's page",
        "the guardians' contact data",
        "absence, with type and comment",
    }
    assert {r.who for r in reads} == {"Teacher A"}
    assert all(r.school == world.school.name for r in reads)


def test_names_are_left_out_where_the_municipality_says_so(world):
    teacher = Client()
    teacher.force_login(world.contact_teacher_a)
    teacher.get(reverse("pupil_detail", args=[world.child_a.pk]))
    municipality = world.school.municipality
    municipality.reader_names_shown = False
    municipality.save(update_fields=["reader_names_shown"])
    _pupil, _page, reads = selectors.pupil_reads(
        actor=world.guardian_a, pupil_id=world.child_a.pk, page=1
    )
    assert reads and all(r.who == "" and r.role for r in reads)


def test_every_entry_about_a_child_names_it(world):
    application = apply(world)
    entry = AuditEntry.objects.filter(action="leave.application.created").get()
    assert entry.pupil_id == application.pupil_id


def test_nobody_else_sees_the_list(world):
    url = reverse("pupil_reads", args=[world.child_a.pk])
    for who in ("guardian_b", "contact_teacher_a", "office", "guardian_without_responsibility"):
        client = Client()
        client.force_login(getattr(world, who))
        assert client.get(url).status_code == 404


def test_a_read_of_the_childs_relay_log_is_listed(world):
    """The nurse reads Aksel's relay log: his guardian sees it beside the school's reads."""
    from tests.relaylog.helpers import consented, with_nurse

    log = consented(world)
    nurse = Client()
    nurse.force_login(with_nurse(world, log).user)
    assert nurse.get(reverse("relaylog_detail", args=[log.pk])).status_code == 200
    with translation.override("en"):
        _pupil, _page, reads = selectors.pupil_reads(
            actor=world.guardian_a, pupil_id=log.pupil_id, page=1
        )
    assert "the relay log" in {r.what for r in reads}
