"""ID-porten login against a real local OpenID Connect provider: what allauth does not
check is checked here, and every claim variant that must be refused is."""

import base64
import hashlib
import logging

from django.test import Client

from kontaktbok.national.models import NationalSession
from tests.national.conftest import authorize, configure, login, params, person, start

SUBSTANTIAL = "idporten-loa-substantial"


def test_guardian_logs_in_with_pid_and_lands_on_their_children(national, family):
    client = Client()
    response, _ = login(client, national, pid=family["nin"], acr=SUBSTANTIAL, sid="sid-1")
    assert response.status_code == 302, response.content[:400]
    assert client.session["_auth_user_id"] == str(family["guardian"].pk)
    home = client.get(response["Location"], follow=True)
    assert "Ingrid" in home.content.decode()
    assert NationalSession.objects.filter(sid="sid-1", user=family["guardian"]).count() == 1


def refused(response, text: str = "") -> str:
    assert response.status_code == 403, response.status_code
    assert "_auth_user_id" not in response.wsgi_request.session
    body = response.content.decode()
    assert text in body
    return body


def test_pkce_s256_is_always_on_even_when_the_app_setting_says_off(national, settings):
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"][0]["settings"][
        "oauth_pkce_enabled"
    ] = False
    client = Client()
    query = params(start(client))
    assert query["code_challenge_method"] == "S256"
    state = client.session["socialaccount_states"][query["state"]][0]
    verifier = state["pkce_code_verifier"]
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"]


def test_a_nonce_is_sent_per_login_and_kept_with_the_state(national):
    client = Client()
    first, second = params(start(client)), params(start(client))
    assert len(first["nonce"]) >= 32
    assert first["nonce"] != second["nonce"]
    assert first["state"] != second["state"]


def test_an_id_token_with_another_nonce_is_refused(national, family):
    response, _ = login(Client(), national, pid=family["nin"], acr=SUBSTANTIAL, nonce="gammal")
    refused(response, "could not be completed")


def test_a_replayed_state_is_refused(national, family):
    client = Client()
    sub = person(national, pid=family["nin"], acr=SUBSTANTIAL)
    callback = authorize(start(client), sub)
    assert client.get(callback).status_code == 302
    client.post("/accounts/logout/")
    refused(client.get(callback), "could not be completed")
    # Nor in another browser that never started the login.
    refused(Client().get(callback), "could not be completed")


def test_the_login_url_cannot_lower_acr_values_or_change_scope(national):
    client = Client()
    url = start(client, query="?auth_params=acr_values%3Didporten-loa-low%26prompt%3Dnone&scope=x")
    query = params(url)
    assert query["acr_values"] == SUBSTANTIAL
    assert "prompt" not in query
    assert set(query["scope"].split()) == {"openid", "profile"}


def test_the_required_level_comes_from_the_settings(settings, provider_url, family):
    configure(settings, provider_url, IDPORTEN_ACR="idporten-loa-high")
    settings.IDPORTEN_ACR = "idporten-loa-high"
    assert params(start(Client()))["acr_values"] == "idporten-loa-high"
    response, _ = login(Client(), provider_url, pid=family["nin"], acr=SUBSTANTIAL)
    refused(response, "too low a security level")
    response, _ = login(Client(), provider_url, pid=family["nin"], acr="eidas-loa-high")
    assert response.status_code == 302


def test_a_returned_acr_below_the_required_level_is_refused(national, family):
    response, _ = login(Client(), national, pid=family["nin"], acr="idporten-loa-low")
    refused(response, "too low a security level")
    response, _ = login(Client(), national, pid=family["nin"])  # no acr at all
    refused(response, "too low a security level")


def test_a_missing_pid_is_refused(national, family):
    response, _ = login(Client(), national, acr=SUBSTANTIAL)
    refused(response, "national identity number")


def test_a_token_for_another_client_is_refused(national, family):
    response, _ = login(Client(), national, pid=family["nin"], acr=SUBSTANTIAL, aud="annan")
    refused(response, "could not be completed")


def test_a_token_from_another_issuer_is_refused(national, family):
    response, _ = login(
        Client(), national, pid=family["nin"], acr=SUBSTANTIAL, iss="https://idporten.example"
    )
    refused(response, "could not be completed")


def test_an_expired_token_is_refused(national, family):
    import time

    expired = int(time.time()) - 120
    response, _ = login(Client(), national, pid=family["nin"], acr=SUBSTANTIAL, exp=expired)
    refused(response, "could not be completed")


def test_the_person_is_found_by_pid_not_sub(national, family):
    """Two logins with different ``sub`` (ID-porten changed them) find the same guardian."""
    for _ in range(2):
        client = Client()
        _response, _ = login(client, national, pid=family["nin"], acr=SUBSTANTIAL)
        assert client.session["_auth_user_id"] == str(family["guardian"].pk)


def test_an_unknown_person_gets_the_not_registered_page_in_their_language(national, family):
    from kontaktbok.schools.identity import make_test_nin

    stranger = make_test_nin("148590", 512) or make_test_nin("148590", 513)
    client = Client()
    client.cookies["kontaktbok_language"] = "en"
    response, _ = login(client, national, pid=stranger, acr=SUBSTANTIAL)
    body = refused(response, "not registered as a guardian at a school in the municipality")
    assert "contact the school office" in body.lower()
    assert "Ingrid" not in body and family["guardian"].full_name not in body
    client.cookies["kontaktbok_language"] = "nn"
    response, _ = login(client, national, pid=stranger, acr=SUBSTANTIAL)
    assert response.status_code == 403
    assert 'lang="nn"' in response.content.decode()


def test_a_former_guardian_with_no_child_here_is_not_let_in(national, family):
    from kontaktbok.schools.models import Guardianship

    Guardianship.objects.filter(guardian=family["guardian"]).delete()
    response, _ = login(Client(), national, pid=family["nin"], acr=SUBSTANTIAL)
    refused(response, "not registered as a guardian")


def test_the_pid_is_never_stored_or_logged_in_clear(national, family, caplog):
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.sessions.models import Session

    from kontaktbok.core.models import AuditEntry

    caplog.set_level(logging.DEBUG)
    client = Client()
    response, _ = login(client, national, pid=family["nin"], acr=SUBSTANTIAL)
    assert response.status_code == 302
    stranger, _ = login(Client(), national, pid="14859051234", acr=SUBSTANTIAL)
    assert stranger.status_code == 403
    # A valid person who is no guardian, going on as a citizen.
    from kontaktbok.schools.identity import make_test_nin

    valid = make_test_nin("148590", 512) or make_test_nin("148590", 513)
    citizen = Client()
    response, _ = login(citizen, national, pid=valid, acr=SUBSTANTIAL)
    assert response.status_code == 403
    assert citizen.post("/accounts/national/citizen/").status_code == 302
    for pid in (family["nin"], "14859051234", valid):
        assert pid not in caplog.text
        for session in Session.objects.all():
            assert pid not in str(session.get_decoded())
        for entry in AuditEntry.objects.all():
            assert pid not in str(entry.detail)
    assert not SocialAccount.objects.exists()


def test_private_key_jwt_proves_the_client_with_a_signed_assertion(
    settings, provider_url, family, tmp_path
):
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from kontaktbok.national.oidc import client_assertion

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "idporten.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assertion = client_assertion(
        client_id="kb", audience="https://test.idporten.no", key_file=str(key_file), key_id="k1"
    )
    claims = jwt.decode(
        assertion, key.public_key(), algorithms=["RS256"], audience="https://test.idporten.no"
    )
    assert claims["iss"] == claims["sub"] == "kb"
    assert claims["exp"] - claims["iat"] <= 120 and claims["jti"]
    assert jwt.get_unverified_header(assertion)["kid"] == "k1"
    # A whole login with it (the local provider accepts any client authentication).
    configure(
        settings,
        provider_url,
        IDPORTEN_TOKEN_AUTH_METHOD="private_key_jwt",
        IDPORTEN_KEY_FILE=str(key_file),
        IDPORTEN_CLIENT_SECRET="",
    )
    response, _ = login(Client(), provider_url, pid=family["nin"], acr=SUBSTANTIAL)
    assert response.status_code == 302


def test_a_guardian_with_a_mobile_number_only_logs_in_with_id_porten(national, family):
    """The roster brings such guardians without an e-mail address: ID-porten is their way in."""
    guardian = family["guardian"]
    guardian.email = None
    guardian.save(update_fields=["email"])
    client = Client()
    response, _ = login(client, national, pid=family["nin"], acr=SUBSTANTIAL)
    assert response.status_code == 302, response.content[:400]
    assert client.session["_auth_user_id"] == str(guardian.pk)
    assert "Ingrid" in client.get(response["Location"], follow=True).content.decode()


def test_a_citizen_who_is_no_guardian_goes_on_to_send_securely(national, family, caplog):
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    from kontaktbok.core.models import AuditEntry
    from kontaktbok.schools.identity import make_test_nin, nin_digest

    caplog.set_level(logging.DEBUG)
    stranger = make_test_nin("148590", 512) or make_test_nin("148590", 513)
    client = Client()
    client.cookies["kontaktbok_language"] = "en"
    response, _ = login(client, national, pid=stranger, acr=SUBSTANTIAL, name="Siri Borgar")
    body = refused(response, "not registered as a guardian at a school in the municipality")
    assert "Send securely to the municipality" in body
    assert 'action="/accounts/national/citizen/"' in body

    response = client.post("/accounts/national/citizen/")
    assert response.status_code == 302, response.content[:400]
    assert response["Location"] == "/submissions/new/"
    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    assert user.nin_digest == nin_digest(stranger)
    assert user.email is None and not user.has_usable_password()
    assert user.full_name == "Siri Borgar"
    assert user != family["guardian"]
    assert client.get("/submissions/new/").status_code == 200
    # A citizen account sees no child: not on the home page, the API or a pupil's page.
    home = client.get("/", follow=True).content.decode()
    assert "Ingrid" not in home and family["guardian"].full_name not in home
    me = client.get("/api/v1/me")
    assert "Ingrid" not in me.content.decode()
    assert client.get(f"/pupils/{family['child'].pk}/").status_code in (403, 404)
    # The pid is kept encrypted only, and never logged or audited in clear.
    assert stranger not in caplog.text
    for session in Session.objects.all():
        assert stranger not in str(session.get_decoded())
    for entry in AuditEntry.objects.all():
        assert stranger not in str(entry.detail)
    # The offer is used once; the same person logging in again finds the same account.
    assert Client().post("/accounts/national/citizen/").status_code == 403
    again = Client()
    login(again, national, pid=stranger, acr=SUBSTANTIAL)
    again.post("/accounts/national/citizen/")
    assert again.session["_auth_user_id"] == str(user.pk)
    assert get_user_model().objects.filter(nin_digest=nin_digest(stranger)).count() == 1


def test_no_citizen_offer_after_a_refused_or_too_low_login(national, family):
    from kontaktbok.schools.identity import make_test_nin

    stranger = make_test_nin("148590", 512) or make_test_nin("148590", 513)
    client = Client()
    response, _ = login(client, national, pid=stranger, acr="idporten-loa-low")
    assert response.status_code == 403
    assert client.post("/accounts/national/citizen/").status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_guardians_id_porten_login_keeps_the_pid_for_the_sender_only_sealed(national, family):
    from kontaktbok.national import services

    client = Client()
    response, _ = login(client, national, pid=family["nin"], acr=SUBSTANTIAL)
    assert response.status_code == 302
    request = response.wsgi_request
    assert services.session_pid(request) == family["nin"]
    assert family["nin"] not in str(dict(client.session.items()))


def test_the_identity_number_of_a_staff_member_cannot_go_on_as_a_citizen(national, family):
    from datetime import date

    from kontaktbok.schools.identity import nin_digest
    from tests import factories

    staff = factories.staff_member(family["school"], "Marit Lærar").user
    nin = factories.nin_for(date(1979, 5, 17))

    staff.nin_digest = nin_digest(nin)
    staff.save(update_fields=["nin_digest"])
    client = Client()
    response, _ = login(client, national, pid=nin, acr=SUBSTANTIAL)
    refused(response, "not registered as a guardian")
    assert client.post("/accounts/national/citizen/").status_code == 403
    assert "_auth_user_id" not in client.session


def test_going_on_as_a_citizen_needs_the_csrf_token_and_takes_no_hostile_input(national, family):
    from kontaktbok.schools.identity import make_test_nin

    pid = next(n for i in range(200, 300) if (n := make_test_nin("150590", i)))
    client = Client()
    login(client, national, pid=pid, acr=SUBSTANTIAL)
    strict = Client(enforce_csrf_checks=True)  # the same browser, posting without the token
    strict.cookies = client.cookies
    assert strict.post("/accounts/national/citizen/").status_code == 403
    assert "_auth_user_id" not in strict.session
    hostile = {"next": "https://evil.example/", "pid": "01010112345", "x": "\x00' OR 1=1"}
    client = Client()
    login(client, national, pid=pid, acr=SUBSTANTIAL)
    response = client.post("/accounts/national/citizen/", hostile)
    assert response.status_code == 302 and response["Location"] == "/submissions/new/"
