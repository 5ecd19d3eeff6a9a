"""Headers on every answer: logged-in pages and API answers are never stored by a browser
or proxy, the browser features the app does not use are switched off, static files keep
their caching."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["guardian_a", "contact_teacher_b", "leadership"])
@pytest.mark.parametrize("path", ["/", "/messages/", "/api/v1/me", "/api/v1/pupils/999999"])
def test_logged_in_answers_are_not_stored(world, who, path):
    response = client_for(getattr(world, who)).get(path)
    assert response.status_code in {200, 302, 404}
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_api_answers_without_a_session_are_not_stored():
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/me", "/healthz"])
def test_every_answer_switches_off_unused_browser_features(path):
    policy = Client().get(path)["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_static_files_keep_their_caching(world, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client_for(world.guardian_a).get("/static/core/kontaktbok.css")
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
