"""PKCE against the npm oidc-provider stand-in (which enforces it, unlike the mock): a
request without a code challenge is refused there, kontaktbok's login passes, and a code
redeemed with the wrong verifier is refused and ends on kontaktbok's clear page."""

import socket
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from django.test import Client

from kontaktbok.demo.national import CLIENTS, standin_env, start_standins
from kontaktbok.national.conf import national_apps
from tests.national.conftest import params, start

SITE = "http://testserver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    idporten, feide = free_port(), free_port()
    config = tmp_path_factory.mktemp("standin") / "standin.json"
    process = start_standins(config, SITE, idporten, feide)
    yield idporten, feide
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def configured(standin, settings, db):
    env = standin_env(*standin)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "kontaktbok.national.oidc.NationalProvider",
            "APPS": national_apps(lambda name, default="": env.get(f"KONTAKTBOK_{name}", default)),
        }
    }
    return f"http://127.0.0.1:{standin[0]}"


def at_standin(authorize_url: str, person: str = "kari") -> str:
    """Log in at the stand-in as a browser would: the callback path and query."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=True, timeout=10)
    assert "/interaction/" in response.url, response.text[:300]
    response = browser.post(
        response.url,
        data={"person": person, "acr": "idporten-loa-substantial"},
        allow_redirects=False,
        timeout=10,
    )
    while response.status_code in (302, 303) and not response.headers["Location"].startswith(SITE):
        response = browser.get(response.headers["Location"], allow_redirects=False, timeout=10)
    location = response.headers["Location"]
    assert location.startswith(f"{SITE}/accounts/oidc/idporten/login/callback/"), location
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def test_the_standin_refuses_an_authorization_without_pkce(configured):
    query = urlencode(
        {
            "client_id": CLIENTS["idporten"],
            "redirect_uri": f"{SITE}/accounts/oidc/idporten/login/callback/",
            "response_type": "code",
            "scope": "openid",
            "state": "s",
            "nonce": "n",
        }
    )
    response = requests.get(f"{configured}/auth?{query}", allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303)
    refused = params(response.headers["Location"])
    assert refused["error"] == "invalid_request"
    assert (
        "code_challenge" in refused["error_description"] or "PKCE" in refused["error_description"]
    )


def test_kontaktbok_logs_in_with_pkce_and_a_wrong_verifier_is_refused(configured):
    client = Client()
    url = start(client)
    assert params(url)["code_challenge_method"] == "S256"
    callback = at_standin(url, "ukjend")
    response = client.get(callback)
    # The stand-in accepted the code with kontaktbok's verifier: the person is then judged
    # by kontaktbok (this one is nobody's guardian).
    assert response.status_code == 403
    assert "not registered as a guardian" in response.content.decode()

    client = Client()
    url = start(client)
    callback = at_standin(url, "ukjend")
    session = client.session
    state = session["socialaccount_states"][params(url)["state"]]
    state[0]["pkce_code_verifier"] = "x" * 64  # not the one the challenge was made from
    session.save()
    response = client.get(callback)
    assert response.status_code == 403
    assert "could not be completed" in response.content.decode()
