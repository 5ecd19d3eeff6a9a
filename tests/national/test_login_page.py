"""The login page: the national buttons first when set up; password login can be off."""

from django.test import Client

from tests import factories
from tests.factories import PASSWORD


def test_without_national_login_the_page_is_the_password_form(db):
    body = Client().get("/accounts/login/").content.decode()
    assert 'name="password"' in body
    assert "ID-porten" not in body


def test_the_national_buttons_come_first_idporten_before_feide(national):
    body = Client().get("/accounts/login/?next=/absence/").content.decode()
    idporten = body.index('data-login="idporten"')
    feide = body.index('data-login="feide"')
    assert idporten < feide < body.index('name="password"')
    assert "/accounts/oidc/idporten/login/?next=/absence/" in body


def test_password_login_switched_off(national, settings):
    settings.PASSWORD_LOGIN = False
    user = factories.user("Kari")
    client = Client()
    body = client.get("/accounts/login/").content.decode()
    assert 'name="password"' not in body
    assert 'data-login="idporten"' in body
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Password login is switched off" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_login_setting_reads_off(monkeypatch):
    from kontaktbok.settings import env_bool

    monkeypatch.setenv("KONTAKTBOK_PASSWORD_LOGIN", "off")
    assert env_bool("PASSWORD_LOGIN", True) is False


def test_after_idporten_a_guardian_is_offered_a_passkey_and_may_add_one(national, family):
    from tests.national.conftest import login

    client = Client()
    response, _ = login(client, national, pid=family["nin"], acr="idporten-loa-substantial")
    home = client.get(response["Location"], follow=True).content.decode()
    assert "passkey" in home and 'href="/accounts/2fa/webauthn/add/"' in home
    # Just after ID-porten no new login is asked for: the passkey form opens at once.
    add = client.get("/accounts/2fa/webauthn/add/")
    assert add.status_code == 200
    assert 'name="passwordless"' in add.content.decode()
    # Later, a fresh login is needed first.
    import time

    import time_machine

    with time_machine.travel(time.time() + 6 * 60, tick=False):
        assert client.get("/accounts/2fa/webauthn/add/").status_code == 302


def test_the_login_page_offers_passkey_login(national):
    body = Client().get("/accounts/login/").content.decode()
    assert 'id="passkey_login"' in body and 'action="/accounts/2fa/webauthn/login/"' in body


def test_a_municipality_turns_passkey_login_off(national, family, settings):
    from tests.national.conftest import login

    settings.PASSKEY_LOGIN = False
    assert 'id="passkey_login"' not in Client().get("/accounts/login/").content.decode()
    client = Client()
    response, _ = login(client, national, pid=family["nin"], acr="idporten-loa-substantial")
    assert "passkey" not in client.get(response["Location"], follow=True).content.decode()


def test_passkey_login_setting_reads_off(monkeypatch):
    from kontaktbok.settings import env_bool

    monkeypatch.setenv("KONTAKTBOK_PASSKEY_LOGIN", "off")
    assert env_bool("PASSKEY_LOGIN", True) is False
