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
