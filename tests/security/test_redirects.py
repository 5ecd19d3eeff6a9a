"""No ``next=`` value sends a user off the site: after login, after a language change, and
after a staff session timed out."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.factories import PASSWORD, World

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%2F%2Fevil.example/",
    " //evil.example/",
    "\t//evil.example/",
]


def _stays_here(location: str) -> bool:
    parts = urlsplit(location.strip())
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith(("//", "/\\"))
    )


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_sends_the_user_off_the_site(world: World, target: str):
    response = Client().post(
        "/accounts/login/", {"login": world.guardian_a.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert _stays_here(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_language_switch_never_sends_the_user_off_the_site(world: World, target: str):
    client = Client()
    client.force_login(world.guardian_a)
    response = client.post("/i18n/setlang/", {"language": "nb", "next": target})
    assert response.status_code == 302
    assert _stays_here(response["Location"]), response["Location"]


def test_a_timed_out_staff_session_comes_back_to_the_same_site(world: World, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = -1
    client = Client()
    client.force_login(world.contact_teacher_b)
    # The path itself carries a second ``next``: it must stay part of the first.
    response = client.get("/pupils/1%26next=https:%2F%2Fevil.example%2F")
    assert response.status_code == 302
    done = client.post(
        response["Location"], {"login": world.contact_teacher_b.email, "password": PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == "/pupils/1&next=https://evil.example/"
