"""A write without the CSRF token is refused, for every page and API call that writes:
a page on another site cannot make a signed-in guardian or teacher act."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from tests import factories
from tests.factories import World
from tests.test_access_matrix import MATRIX, SIGNED_IN

# Called by the identity provider's server, not by a browser: no CSRF token, and no
# session; what proves the sender is the signed logout_token (tests/national/).
SERVER_TO_SERVER = {"national_backchannel_logout"}
# Writes no actor of the matrix can make (they need a login just made at the national
# provider); their CSRF and bad-input tests are with them, in tests/national/test_idporten.py
# and tests/relaylog/test_join.py.
NEEDS_A_NATIONAL_LOGIN = {"national_citizen_login", "relaylog_join"}
NOT_HERE = SERVER_TO_SERVER | NEEDS_A_NATIONAL_LOGIN
WRITES = sorted(
    name for name, spec in MATRIX.items() if spec["method"] != "get" and name not in NOT_HERE
)


def _allowed_actor(spec: dict) -> str | None:
    """The first signed-in actor whose request with the token succeeds."""
    for actor in SIGNED_IN:
        expected = spec["expected"][actor]
        if expected in (200, 201, 204, 302) or (isinstance(expected, set) and 200 in expected):
            return actor
    return None


def test_there_are_writes_to_try():
    assert len(WRITES) >= 20
    assert any(name.startswith("api-1:") for name in WRITES)


@pytest.mark.parametrize("name", WRITES)
def test_a_write_without_the_csrf_token_is_refused(name: str, world: World):
    world = factories.every_role(world)
    spec = MATRIX[name]
    actor = _allowed_actor(spec)
    if actor is None:
        pytest.fail(f"{name}: no actor may write here; the row is wrong")
    url = reverse(name, kwargs=spec["kwargs"](world))
    body = spec["body"](world) if spec["body"] else None
    client = Client(enforce_csrf_checks=True)
    client.force_login(getattr(world, actor))
    audited = AuditEntry.objects.count()
    send = getattr(client, spec["method"])
    with transaction.atomic():
        if body is None:
            response = send(url)
        elif name.startswith("api-1:") and not spec["form"]:
            response = send(url, data=body, content_type="application/json")
        else:
            response = send(url, body)
        assert response.status_code == 403, f"{name} as {actor}: {response.status_code}"
        assert AuditEntry.objects.count() == audited
        transaction.set_rollback(True)
