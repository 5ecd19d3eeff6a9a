"""What the whole JSON API answers alike (``core/api.py``): one documented error shape for
every 4xx, in the caller's language, and declared on every operation."""

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from kontaktbok.core.api import ERROR_STATUSES, ErrorOut

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_for(user, language: str = "en") -> Client:
    client = Client()
    client.cookies["kontaktbok_language"] = language
    client.force_login(user)
    return client


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    ErrorOut.model_validate(data)
    assert data["detail"] and data["errors"]
    assert all(item["msg"] for item in data["detail"])
    return data


def test_a_timed_out_staff_api_call_is_401_not_a_redirect(world, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = -1
    client = client_for(world.contact_teacher_b)
    response = client.get(f"{API}/me")
    assert_error_shape(response, 401)
    # The session is gone: the next call is not authenticated either.
    settings.STAFF_SESSION_IDLE_SECONDS = 3600
    assert client.get(f"{API}/me").status_code == 401


def test_a_timed_out_staff_page_still_goes_to_the_login_page(world, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = -1
    response = client_for(world.contact_teacher_b).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_without_a_session_the_answer_is_401_in_the_error_shape():
    data = assert_error_shape(Client().get(f"{API}/me"), 401)
    assert data["detail"][0]["type"] == "not_authenticated"


def test_a_malformed_value_is_422_in_the_error_shape_and_the_users_language(world):
    client = client_for(world.guardian_a, "nn")
    response = client.post(
        f"{API}/absence/reports",
        {"pupil_id": "x", "start_date": "not a date"},
        content_type="application/json",
    )
    data = assert_error_shape(response, 422)
    with translation.override("nn"):
        required, bad_date = gettext("This field is required."), gettext("Enter a valid date.")
    assert data["errors"]["start_date"] == [bad_date]
    assert data["errors"]["end_date"] == [required]
    assert ["body", "payload", "start_date"] in [item["loc"] for item in data["detail"]]


def test_a_body_that_is_not_json_is_400_in_the_error_shape(world):
    client = client_for(world.guardian_a)
    response = client.post(f"{API}/absence/reports", "{not json", content_type="application/json")
    assert_error_shape(response, 400)


def test_an_unknown_id_is_404_in_the_error_shape(world):
    data = assert_error_shape(client_for(world.guardian_a).get(f"{API}/pupils/999999"), 404)
    assert data["detail"][0]["type"] == "not_found"


def test_an_unknown_api_path_is_404_in_the_error_shape(world):
    assert_error_shape(client_for(world.guardian_a).get(f"{API}/no-such-thing"), 404)


def test_a_method_not_allowed_is_405_in_the_error_shape(world):
    response = client_for(world.guardian_a).delete(f"{API}/me")
    assert_error_shape(response, 405)
    assert "GET" in response["Allow"]


def test_a_csrf_less_write_is_403_in_the_error_shape(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.guardian_a)
    response = client.post(f"{API}/messages/threads/1/read", "{}", content_type="application/json")
    assert_error_shape(response, 403)


def test_a_too_long_address_is_414_in_the_error_shape(world):
    response = client_for(world.guardian_a).get(f"{API}/messages/threads", {"q": "x" * 5000})
    assert_error_shape(response, 414)


def test_every_operation_declares_every_error_answer():
    schema = Client().get(f"{API}/openapi.json").json()
    wanted = set(map(str, ERROR_STATUSES))
    undeclared = {
        f"{method.upper()} {path}": sorted(wanted - set(operation["responses"]))
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if not wanted <= set(operation["responses"])
    }
    assert len(schema["paths"]) > 20
    assert undeclared == {}
