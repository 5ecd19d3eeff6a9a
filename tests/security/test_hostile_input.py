"""Hostile input in every field of every write: markup, 100,000 characters, NUL bytes,
numbers beyond 64 bits, odd dates. The answer is a clear refusal or a stored value shown
as text, never a server error; and what is shown is escaped wherever it appears."""

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from kontaktbok.absence.services import absence_report_create
from kontaktbok.core import clock
from tests import factories
from tests.factories import World
from tests.security.test_csrf import NOT_HERE, _allowed_actor
from tests.test_access_matrix import MATRIX

MARKUP = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{ 7|add:7 }}{% now "Y" %}'
HOSTILE_VALUES = {
    "markup": MARKUP,
    "long": "x" * 100_000,
    "nul": "Feber\x00",
    "huge": "122770437461405754982400",
    "negative": "-1",
    "far_date": "9999-12-31",
    "year_one": "0001-01-01",
    "epoch": "0",
}
WRITES_WITH_BODY = sorted(
    name
    for name, spec in MATRIX.items()
    if spec["method"] != "get" and spec["body"] and name not in NOT_HERE
)


def _send(client: Client, name: str, spec: dict, url: str, body: dict[str, Any]) -> Any:
    send = getattr(client, spec["method"])
    if name.startswith("api-1:") and not spec["form"]:
        return send(url, data=body, content_type="application/json")
    return send(url, body)


@pytest.mark.parametrize("name", WRITES_WITH_BODY)
def test_no_hostile_value_in_any_field_gives_a_server_error(name: str, world: World):
    world = factories.every_role(world)
    spec = MATRIX[name]
    actor = _allowed_actor(spec)
    assert actor, name
    client = Client()
    client.force_login(getattr(world, actor))
    url = reverse(name, kwargs=spec["kwargs"](world))
    valid = spec["body"](world)
    failures = []
    for field in valid:
        for label, value in HOSTILE_VALUES.items():
            body = {**valid, field: value}
            with transaction.atomic():
                response = _send(client, name, spec, url, body)
                transaction.set_rollback(True)
            if response.status_code >= 500:
                failures.append(f"{field}={label}: {response.status_code}")
    assert not failures, f"{name} as {actor}:\n" + "\n".join(failures)


def test_a_comment_full_of_markup_is_shown_as_text_to_the_class_team(world: World):
    """The guardian's comment reaches the teacher's daily check and the pupil's history as
    the characters typed."""
    absence_report_create(
        actor=world.guardian_b,
        pupil_id=world.child_b.pk,
        start_date=clock.today(),
        end_date=clock.today(),
        absence_type=world.school.absence_types.get(code="sick"),
        comment=MARKUP[:200],
    )
    teacher, guardian = Client(), Client()
    teacher.force_login(world.contact_teacher_a)
    guardian.force_login(world.guardian_b)
    pages = [
        (teacher, reverse("attendance_register", kwargs={"group_id": world.class_a.pk})),
        (teacher, reverse("pupil_absence_history", kwargs={"pupil_id": world.child_b.pk})),
        (guardian, reverse("absence_child", kwargs={"pupil_id": world.child_b.pk})),
    ]
    for client, url in pages:
        html = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<script>alert(1)" not in html, url
        assert "<img src=x" not in html, url
        assert "{{ 7|add:7 }}{% now &quot;Y&quot; %}" in html, url


def test_markup_in_a_decision_is_printed_as_text_in_the_letter(world: World):
    from io import BytesIO

    from pypdf import PdfReader

    from kontaktbok.leave import services as leave
    from kontaktbok.leave.models import Decision
    from tests.leave.matrix import _application

    application = _application(world)
    decision = leave.leave_decide(
        actor=world.contact_teacher_b,
        application_id=application.pk,
        outcome=Decision.Outcome.DECLINED,
        reasons=MARKUP,
    )
    client = Client()
    client.force_login(world.guardian_a)
    response = client.get(reverse("leave_letter", kwargs={"decision_id": decision.pk}))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content) if response.streaming else response.content
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    flat = "".join(text.split())
    assert "<script>alert(1)</script>" in flat
    assert '{{7|add:7}}{%now"Y"%}' in flat
