"""The citizen account of an ID-porten login: two first logins of the same new person at
once make one account, and neither fails on the unique identity-number digest."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from kontaktbok.national import services
from kontaktbok.schools.identity import make_test_nin, nin_digest
from tests.national.conftest import login

SUBSTANTIAL = "idporten-loa-substantial"
PID = next(n for i in range(600, 700) if (n := make_test_nin("190392", i)))


def _lose_the_race(monkeypatch: pytest.MonkeyPatch, other: dict[str, Any]) -> None:
    """The other request makes the account just after this one looked for it: the first
    look finds nothing, the insert then meets the other's row."""
    looks = []
    real = services._by_digest

    def look(digest: str) -> Any:
        looks.append(digest)
        if len(looks) == 1:
            other["user"] = services.citizen_account(pid=PID, name="Den andre")
            return None
        return real(digest)

    monkeypatch.setattr(services, "_by_digest", look)


@pytest.mark.django_db
def test_a_lost_race_takes_the_account_the_other_request_made(monkeypatch):
    other: dict[str, Any] = {}
    _lose_the_race(monkeypatch, other)
    user = services.citizen_account(pid=PID, name="Siri Borgar")
    assert user is not None and user == other["user"]
    assert get_user_model().objects.filter(nin_digest=nin_digest(PID)).count() == 1
    # The transaction around it is still usable after the refused insert.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_two_first_logins_at_once_both_get_in_as_the_same_citizen(national, monkeypatch):
    first, second = Client(), Client()
    for client in (first, second):
        response, _ = login(client, national, pid=PID, acr=SUBSTANTIAL)
        assert response.status_code == 403  # not registered: may go on as a citizen
    other: dict[str, Any] = {}
    real = services._by_digest
    calls = []

    def look(digest: str) -> Any:
        calls.append(digest)
        if len(calls) == 1:  # the first request commits its account in between
            response = first.post("/accounts/national/citizen/")
            assert response.status_code == 302
            other["user"] = first.session["_auth_user_id"]
            return None
        return real(digest)

    monkeypatch.setattr(services, "_by_digest", look)
    response = second.post("/accounts/national/citizen/")
    assert response.status_code == 302, response.content[:300]
    assert second.session["_auth_user_id"] == other["user"]
    assert get_user_model().objects.filter(nin_digest=nin_digest(PID)).count() == 1
