"""Logout: from kontaktbok (the provider's end-session endpoint too), and from the
provider by front-channel (iss, sid) and back-channel (a signed logout_token)."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from kontaktbok.national import crypto
from kontaktbok.national.models import NationalSession
from tests.national.conftest import configure, login, params

SUBSTANTIAL = "idporten-loa-substantial"
EVENT = {"http://schemas.openid.net/event/backchannel-logout": {}}


def logged_in(issuer, family, sid):
    client = Client()
    response, _ = login(client, issuer, pid=family["nin"], acr=SUBSTANTIAL, sid=sid)
    assert response.status_code == 302
    return client


def test_logout_ends_the_local_session_and_goes_to_the_providers_end_session(national, family):
    client = logged_in(national, family, "sid-a")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{national}/oauth2/end_session?")
    query = params(location)
    hint = jwt.decode(query["id_token_hint"], options={"verify_signature": False})
    assert hint["sid"] == "sid-a"
    assert "kontaktbok-idporten" in hint["aud"]
    assert query["post_logout_redirect_uri"] == "http://127.0.0.1:8000/"
    assert query["state"]
    assert "_auth_user_id" not in client.session
    assert not NationalSession.objects.filter(sid="sid-a").exists()


def test_the_id_token_is_kept_sealed_in_the_session(national, family):
    client = logged_in(national, family, "sid-s")
    kept = client.session["kb_national"]
    assert family["nin"] not in json.dumps(kept)
    assert family["nin"] in json.dumps(
        jwt.decode(crypto.unseal(kept["id_token"]), options={"verify_signature": False})
    )


def test_front_channel_logout_ends_every_session_of_that_sid_only(national, family):
    phone, laptop = logged_in(national, family, "sid-f"), logged_in(national, family, "sid-f")
    other = logged_in(national, family, "sid-other")
    response = Client().get(
        "/accounts/national/frontchannel-logout/", {"iss": national, "sid": "sid-f"}
    )
    assert response.status_code == 200
    assert "frame-ancestors 'self' " + national in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    assert other.get("/").status_code == 200


def test_front_channel_logout_from_an_unknown_issuer_ends_nothing(national, family):
    client = logged_in(national, family, "sid-u")
    response = Client().get(
        "/accounts/national/frontchannel-logout/", {"iss": "https://evil.example", "sid": "sid-u"}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 200


@pytest.fixture
def signing_key(settings, national):
    """The provider's signing key, published at a JWKS URL its configuration names."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    configure(settings, national)
    for app in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]:
        app["settings"]["openid_configuration_overrides"] = {
            "jwks_uri": f"http://127.0.0.1:{server.server_port}/jwks"
        }
    yield key
    server.shutdown()


def logout_token(key, issuer, **claims):
    payload = {
        "iss": issuer,
        "aud": "kontaktbok-idporten",
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "events": EVENT,
        "sid": "sid-b",
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def back(token):
    return Client().post("/accounts/national/backchannel-logout/", {"logout_token": token})


def test_back_channel_logout_ends_every_session_of_that_sid(national, family, signing_key):
    first, second = logged_in(national, family, "sid-b"), logged_in(national, family, "sid-b")
    other = logged_in(national, family, "sid-c")
    token = logout_token(signing_key, national)
    assert back(token).status_code == 200
    assert first.get("/").status_code == 302 and second.get("/").status_code == 302
    assert other.get("/").status_code == 200
    # The same token again is a replay.
    assert back(token).status_code == 400


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"iss": "https://idporten.example"},
        {"events": None},
        {"events": {"http://schemas.openid.net/event/other": {}}},
        {"sid": None},
        {"jti": None},
        {"iat": None},
        {"iat": int(time.time()) - 3600},
        {"nonce": "n"},
    ],
    # The ids must not hold the clock: each test process collects them at its own moment.
    ids=lambda c: ",".join(f"{k}={'an-hour-ago' if k == 'iat' and v else v}" for k, v in c.items()),
)
def test_back_channel_refuses_a_logout_token_that_fails_a_check(
    national, family, signing_key, claims
):
    client = logged_in(national, family, "sid-b")
    assert back(logout_token(signing_key, national, **claims)).status_code == 400
    assert client.get("/").status_code == 200


def test_back_channel_refuses_a_token_signed_by_another_key(national, family, signing_key):
    client = logged_in(national, family, "sid-b")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert back(logout_token(stranger, national)).status_code == 400
    unsigned = jwt.encode(
        {"iss": national, "sid": "sid-b", "events": EVENT}, None, algorithm="none"
    )
    assert back(unsigned).status_code == 400
    assert client.get("/").status_code == 200


def test_an_idporten_session_ends_after_30_minutes_idle(national, family, settings):
    client = logged_in(national, family, "sid-i")
    assert client.get("/").status_code == 200
    with time_machine.travel(time.time() + 29 * 60, tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(time.time() + 29 * 60 + 31 * 60, tick=False):
        assert client.get("/").status_code == 302


def test_hostile_logout_tokens_are_refused_without_a_server_error(national):
    from tests.security.test_hostile_input import HOSTILE_VALUES

    for value in [*HOSTILE_VALUES.values(), "a.b.c", "eyJhbGciOiJub25lIn0.e30."]:
        response = Client().post("/accounts/national/backchannel-logout/", {"logout_token": value})
        assert response.status_code == 400, value
    assert Client().get("/accounts/national/backchannel-logout/").status_code == 405


def test_the_sid_of_an_expired_session_is_forgotten(national, family):
    from django.contrib.sessions.models import Session

    from kontaktbok.national.tasks import forget_ended_sessions

    kept = logged_in(national, family, "sid-k")
    gone = logged_in(national, family, "sid-g")
    Session.objects.filter(session_key=gone.session.session_key).delete()
    assert forget_ended_sessions.call() == 1
    assert list(NationalSession.objects.values_list("sid", flat=True)) == ["sid-k"]
    assert kept.get("/").status_code == 200
