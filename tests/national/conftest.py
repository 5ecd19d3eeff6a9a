"""A real OpenID Connect provider on this machine (oidc-provider-mock) standing in for
ID-porten and Feide; kontaktbok's client code runs unchanged against it."""

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from oidc_provider_mock import run_server_in_thread

from kontaktbok.national.conf import national_apps
from kontaktbok.schools import services
from tests import factories


@pytest.fixture(autouse=True)
def _english(settings):
    """The pages' texts are asserted in English (the language without a cookie here)."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(scope="session")
def provider_url():
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def configure(settings, issuer: str, **extra: str) -> None:
    values = {
        "IDPORTEN_ISSUER": issuer,
        "IDPORTEN_CLIENT_ID": "kontaktbok-idporten",
        "IDPORTEN_CLIENT_SECRET": "hemmeleg",
        "FEIDE_ISSUER": issuer,
        "FEIDE_CLIENT_ID": "kontaktbok-feide",
        "FEIDE_CLIENT_SECRET": "hemmeleg",
        **extra,
    }
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "kontaktbok.national.oidc.NationalProvider",
            "APPS": national_apps(lambda name, default="": values.get(name, default)),
        }
    }


@pytest.fixture
def national(settings, provider_url, db):
    configure(settings, provider_url)
    return provider_url


def person(issuer: str, **claims: object) -> str:
    """A person at the provider with these claims (a fresh ``sub`` each time)."""
    sub = str(uuid.uuid4())
    claims.setdefault("sid", str(uuid.uuid4()))
    response = requests.put(f"{issuer}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204
    return sub


def start(client: Client, kind: str = "idporten", query: str = "") -> str:
    """Press the login button: the URL kontaktbok sends the browser to."""
    response = client.post(f"/accounts/oidc/{kind}/login/{query}")
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def authorize(authorize_url: str, sub: str) -> str:
    """The person logs in at the provider: the callback URL it sends them back to."""
    response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def login(client: Client, issuer: str, kind: str = "idporten", query: str = "", **claims):
    sub = person(issuer, **claims)
    callback = authorize(start(client, kind, query), sub)
    return client.get(callback), callback


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def family(db):
    """A guardian with a known identity number and a child at a school."""
    school = factories.school()
    year = factories.school_year(school)
    group = services.group_create(actor=None, school_year=year, name="4A", grade=4)
    child = factories.pupil(group, first_name="Ingrid")
    nin = factories.nin_for(dt.date(1985, 3, 14))
    guardian = factories.user("Kari Nordmann", nin=nin)
    services.guardianship_set(actor=None, guardian=guardian, pupil=child)
    return {"school": school, "group": group, "child": child, "nin": nin, "guardian": guardian}
