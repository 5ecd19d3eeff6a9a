"""The OpenAPI document describes what the API really answers: schemathesis generates
requests from it (valid and invalid ones) for every operation, as a guardian and as a
teacher, and every answer must be no server error, a status code the document declares,
with the declared content type and body schema."""

import datetime as dt
import re
import secrets

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kontaktbok.absence import services as absence_services
from kontaktbok.messaging.models import Message
from tests.leave.helpers import apply
from tests.messaging import helpers as messaging

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Examples per operation and mode: the whole run stays well under a minute on two cores.
EXAMPLES = 6


@pytest.fixture
def in_process_app():
    """Django's WSGI application, called in the test's own transaction: like the test
    client, it must not close the database connection when a request ends."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _session(user) -> dict[str, str]:
    """Cookies and headers of a logged-in browser: the session and a CSRF token."""
    client = Client()
    client.force_login(user)
    token = secrets.token_hex(16)  # 32 characters: a CSRF secret, sent as cookie and header
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: token,
        "kontaktbok_language": "en",
    }
    return {"cookies": cookies, "headers": {"X-CSRFToken": token}}


def _known_ids(world) -> dict[str, int]:
    """Ids of things both actors see (Aksel in 9B: guardian_a's child, contact_teacher_b's
    pupil), so that generated requests also reach past the 404 of an unknown id."""
    report = absence_services.absence_report_create(
        actor=world.guardian_a,
        pupil_id=world.child_a2.pk,
        start_date=dt.date(2026, 11, 24),
        end_date=dt.date(2026, 11, 24),
        absence_type=world.school.absence_types.get(code="sick"),
    )
    return {
        "pupil_id": world.child_a2.pk,
        "group_id": world.class_b.pk,
        "school_id": world.school.pk,
        "report_id": report.pk,
        "application_id": apply(world, pupil_id=world.child_a2.pk).pk,
        **messaging.matrix_file(world),
        "thread_id": Message.objects.latest("pk").thread_id,
        **messaging.matrix_broadcast(world),
    }


@pytest.mark.parametrize("who", ["guardian_a", "contact_teacher_b"])
def test_the_api_answers_as_its_document_says(world, who, in_process_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", in_process_app)
    session = _session(getattr(world, who))
    known = _known_ids(world)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        names = re.findall(r"{(\w+)}", operation.path)
        strategies = {
            "positive": operation.as_strategy(GenerationMode.POSITIVE),
            "negative": operation.as_strategy(GenerationMode.NEGATIVE),
        }
        if names and all(name in known for name in names):
            strategies["known ids"] = operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters={name: known[name] for name in names}
            )
        for mode, strategy in strategies.items():

            @hypothesis.given(case=strategy)
            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case) -> None:
                case.call_and_validate(
                    cookies=session["cookies"], headers=session["headers"], checks=CHECKS
                )

            try:
                call()
            except Exception as error:
                failures.append(f"{operation.label} ({mode}): {error}")
    assert failures == [], "\n\n".join(failures)
