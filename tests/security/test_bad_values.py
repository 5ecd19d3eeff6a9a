"""Bad values answer a clear 4xx, never 500: ids above 64 bits (SQLite cannot store them),
NUL characters (PostgreSQL cannot store them) and dates at the ends of the calendar."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation
from django.utils.translation import gettext

pytestmark = pytest.mark.django_db

HUGE = "122770437461405754982400"
API = "/api/v1"


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _int_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every page route with an ``<int:...>`` part, the ints filled with a huge number."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend(_int_routes(entry, pattern))
        elif isinstance(entry, URLPattern) and "<int:" in pattern:
            found.append("/" + re.sub(r"<int:\w+>", HUGE, pattern))
    return found


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_huge_id_in_any_page_path_is_not_found(world, method):
    client = client_for(world.leadership)
    routes = _int_routes()
    assert len(routes) > 30
    answers = {route: getattr(client, method)(route).status_code for route in routes}
    # 404, or 405 for a page that takes only the other method; allauth's pages ask for
    # re-authentication first (302).
    assert {r: s for r, s in answers.items() if s not in {302, 404, 405}} == {}


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/pupils/{HUGE}",
        f"{API}/absence/reports?pupil_id={HUGE}",
        f"{API}/absence/groups/{HUGE}/sheet",
        f"{API}/leave/applications?pupil_id={HUGE}",
        f"{API}/leave/applications/{HUGE}",
        f"{API}/messages/threads/{HUGE}",
        f"{API}/messages/broadcasts/preview?group_ids={HUGE}",
        f"{API}/messages/pupils/{HUGE}/recipients",
        f"{API}/directory/children/{HUGE}/contacts",
        f"{API}/directory/schools/{HUGE}/staff",
    ],
)
def test_a_huge_id_in_the_api_is_a_documented_4xx(world, path):
    response = client_for(world.contact_teacher_b).get(path)
    assert response.status_code in {400, 404, 422}, response.content
    assert response.json()["errors"]


def test_a_huge_id_in_an_api_body_is_refused(world):
    client = client_for(world.contact_teacher_b)
    response = client.post(
        f"{API}/messages/broadcasts",
        {"group_ids": [int(HUGE)], "subject": "Hei", "body": "Hei", "confirmed_count": 1},
        content_type="application/json",
    )
    assert response.status_code in {400, 404, 422}, response.content
    assert response.json()["errors"]


def test_a_huge_group_id_in_the_broadcast_form_is_refused(world):
    client = client_for(world.contact_teacher_b)
    response = client.post(
        "/messages/groups/new/",
        {"groups": HUGE, "subject": "Hei", "body": "Hei", "confirmed_count": "1"},
    )
    assert response.status_code in {200, 400, 404}


def test_nul_in_api_text_is_refused_and_nothing_is_saved(world):
    from kontaktbok.messaging.models import Thread

    client = client_for(world.guardian_a)
    client.cookies["kontaktbok_language"] = "en"
    response = client.post(
        f"{API}/messages/threads",
        {
            "pupil_id": world.child_a.pk,
            "subject": "Hei\x00",
            "body": "Tekst",
            "roles": ["contact_teacher"],
        },
        content_type="application/json",
    )
    assert response.status_code in {400, 422}, response.content
    data = response.json()
    assert data["errors"]
    assert "NUL" in data["detail"][0]["msg"] or "character" in data["detail"][0]["msg"]
    assert not Thread.objects.exists()


@pytest.mark.parametrize(
    "path",
    [f"{API}/messages/threads?q=a%00b", "/messages/?q=a%00b"],
)
def test_nul_in_a_search_is_refused(world, path):
    response = client_for(world.guardian_a).get(path)
    assert response.status_code == 400


def test_nul_in_a_page_search_is_a_page_in_the_users_language(world):
    client = client_for(world.guardian_a)
    client.cookies["kontaktbok_language"] = "nn"
    response = client.get("/messages/?q=a%00b")
    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]
    with translation.override("nn"):
        message = gettext("The request contained a character that is not allowed (NUL).")
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "9999-12-31"},
        {"date_to": "0001-01-01"},
    ],
)
def test_extreme_dates_in_the_audit_search_are_a_form_error(world, query):
    response = client_for(world.leadership).get("/audit/", query)
    assert response.status_code == 200
    assert response.context["form"].errors
