"""Walking the ids: another family's pupil, report or thread answers exactly as an id that
does not exist, so counting up through the ids tells an outsider nothing."""

import re

from django.test import Client
from django.urls import reverse

from kontaktbok.absence.services import absence_report_create
from kontaktbok.core import clock
from kontaktbok.schools.models import Pupil
from tests.factories import World

BEYOND = 2**31 - 1


def _answer(client: Client, url: str) -> tuple[int, str]:
    response = client.get(url)
    body = response.content.decode(errors="replace")
    # The CSRF token and the nonce differ on every page; nothing else may.
    return response.status_code, re.sub(r'(nonce|value)="[^"]*"', "", body)


def test_walking_the_pupil_ids_finds_only_ones_own_children(world: World):
    client = Client()
    client.force_login(world.guardian_b)
    own = {world.child_b.pk, world.protected_child.pk}
    # Every id around the world's pupils (ids below them were used by rolled-back tests on
    # PostgreSQL, whose sequences do not roll back: nothing is there).
    ids = Pupil.objects.values_list("pk", flat=True)
    low, top = min(ids), max(ids)
    for pupil_id in range(max(low - 3, 0), top + 3):
        for name in ("pupil_detail", "absence_child", "api-1:pupil"):
            status = client.get(reverse(name, kwargs={"pupil_id": pupil_id})).status_code
            assert (status == 200) == (pupil_id in own), (name, pupil_id, status)


def test_another_familys_ids_answer_like_ids_that_do_not_exist(world: World):
    report = absence_report_create(
        actor=world.guardian_a,
        pupil_id=world.child_a.pk,
        start_date=clock.today(),
        end_date=clock.today(),
        absence_type=world.school.absence_types.get(code="sick"),
    )
    client = Client()
    client.force_login(world.guardian_b)
    for name, kwargs, missing in (
        ("pupil_detail", {"pupil_id": world.child_a.pk}, {"pupil_id": BEYOND}),
        ("api-1:pupil", {"pupil_id": world.child_a.pk}, {"pupil_id": BEYOND}),
        ("absence_report_edit", {"report_id": report.pk}, {"report_id": BEYOND}),
        ("api-1:report_update", {"report_id": report.pk}, {"report_id": BEYOND}),
    ):
        theirs = _answer(client, reverse(name, kwargs=kwargs))
        nobody = _answer(client, reverse(name, kwargs=missing))
        assert theirs[0] in (404, 405), (name, theirs[0])
        assert theirs == nobody, name
