"""National login in a real browser against local stand-ins for ID-porten and Feide (the
npm package oidc-provider, started as a subprocess; it requires PKCE): a guardian at the
substantial level lands on her children; too low a level and an unknown person are
refused with a clear page; a contact teacher logs in with Feide; kontor without Feide's
MFA level is asked for the second factor; logout reaches the provider's end-session."""

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kontaktbok.demo.data import DemoLogins
from kontaktbok.demo.national import standin_env, start_standins
from kontaktbok.national.conf import national_apps
from kontaktbok.national.models import NationalSession
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import CODE, LOG_IN, LOG_OUT, totp_now

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def standins(live_server: Any, settings: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    idporten, feide = free_port(), free_port()
    process = start_standins(tmp_path / "standin.json", live_server.url, idporten, feide)
    env = standin_env(idporten, feide)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "provider_class": "kontaktbok.national.oidc.NationalProvider",
            "APPS": national_apps(lambda name, default="": env.get(f"KONTAKTBOK_{name}", default)),
        }
    }
    settings.SITE_URL = live_server.url
    yield {"idporten": f"http://127.0.0.1:{idporten}", "feide": f"http://127.0.0.1:{feide}"}
    process.terminate()
    process.wait(timeout=10)


def at_provider(browsing: Browsing, kind: str, person: str, level: str, *, status: int = 200):
    """Press the login button, pick the test person and level at the stand-in."""
    page = browsing.page
    if "/accounts/login/" not in page.url:
        browsing.goto("/accounts/login/")
    browsing.follow(page.locator(f"button[data-login={kind}]"))
    page.get_by_label(re.compile(person)).check()
    page.get_by_label("Level (acr)").select_option(level)
    browsing.follow(page.get_by_role("button", name="Log in"), status=status)


def test_guardian_logs_in_with_idporten_and_out_again(
    phone: Browsing, demo: DemoLogins, standins: dict[str, str]
) -> None:
    page = phone.page
    phone.goto("/accounts/login/")
    # The national buttons come before the password form.
    buttons = page.locator("main button")
    expect(buttons.first).to_have_attribute("data-login", "idporten")
    phone.follow(page.locator("button[data-login=idporten]"))
    assert page.url.startswith(standins["idporten"])
    expect(page.locator("code")).to_have_text("idporten-loa-substantial")  # asked for
    page.get_by_label(re.compile("Kari Vassbotn")).check()
    phone.follow(page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("main")).to_contain_text("Vassbotn")
    assert page.url.rstrip("/") == phone.base_url
    assert NationalSession.objects.filter(provider="idporten").count() == 1
    # Logout ends kontaktbok's session and goes to the provider's end-session endpoint.
    with page.expect_request(
        lambda r: r.url.startswith(f"{standins['idporten']}/session/end")
    ) as r:
        page.get_by_role("navigation").get_by_role("button", name=LOG_OUT).click()
    assert "id_token_hint=" in r.value.url
    phone.follow(page.get_by_role("button", name="Yes, log out"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert not NationalSession.objects.exists()
    expect(page.get_by_role("button", name=LOG_OUT)).to_have_count(0)


def test_too_low_a_level_and_an_unknown_person_are_refused(
    phone: Browsing, desktop: Browsing, demo: DemoLogins, standins: dict[str, str]
) -> None:
    page = phone.page
    at_provider(phone, "idporten", "Kari Vassbotn", "idporten-loa-low", status=403)
    expect(page.get_by_role("alert")).to_contain_text(re.compile("for låg|too low", re.I))
    expect(page.get_by_role("main")).not_to_contain_text("Vassbotn")
    expect(page.get_by_role("button", name=LOG_OUT)).to_have_count(0)
    # Her low-level login at ID-porten is not reused: she is asked to log in again.
    at_provider(phone, "idporten", "Kari Vassbotn", "idporten-loa-substantial")
    expect(page.get_by_role("main")).to_contain_text("Vassbotn")
    # Someone with a valid ID-porten login who is no guardian here, on another device.
    page = desktop.page
    at_provider(desktop, "idporten", "Not registered", "idporten-loa-substantial", status=403)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        re.compile("føresett|foresatt|guardian", re.I)
    )
    expect(page.get_by_role("main")).to_contain_text(
        re.compile("skulekontoret|skolekontoret|school office", re.I)
    )
    expect(page.get_by_role("main")).not_to_contain_text("Vassbotn")
    expect(page.get_by_role("button", name=LOG_OUT)).to_have_count(0)


def test_staff_log_in_with_feide(
    desktop: Browsing, demo: DemoLogins, standins: dict[str, str]
) -> None:
    page = desktop.page
    at_provider(desktop, "feide", "Marit Hjelmeland", "urn:mace:feide.no:auth:level:fad08:2")
    expect(page.get_by_role("button", name=LOG_OUT)).to_be_visible()
    assert "/accounts/" not in page.url
    # Logging out of kontaktbok ends the Feide session too (the provider asks first).
    desktop.follow(page.get_by_role("navigation").get_by_role("button", name=LOG_OUT))
    assert page.url.startswith(standins["feide"])
    desktop.follow(page.get_by_role("button", name="Yes, log out"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    # Kontor without Feide's MFA level: kontaktbok's own second factor.
    at_provider(desktop, "feide", "Sissel Kvamme", "urn:mace:feide.no:auth:level:fad08:2")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    if 30 - time.time() % 30 < 2:
        time.sleep(2)
    main = page.get_by_role("main")
    main.get_by_label(CODE).fill(totp_now(demo.totp_secret))
    desktop.follow(main.get_by_role("button", name=LOG_IN))
    expect(page.get_by_role("button", name=LOG_OUT)).to_be_visible()


def test_guardian_adds_a_passkey_after_idporten_and_comes_back_with_it(
    phone: Browsing, demo: DemoLogins, standins: dict[str, str]
) -> None:
    page = phone.page
    # The phone's own authenticator (PIN or biometrics), as Chromium's virtual one.
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    at_provider(phone, "idporten", "Kari Vassbotn", "idporten-loa-substantial")
    offer = page.get_by_role("link", name=re.compile("tilgangsnøkkel|passkey", re.I))
    phone.follow(offer)
    page.get_by_role("checkbox").check()  # passwordless: a passkey
    with page.expect_navigation():
        page.locator("#mfa_webauthn_add").click()
    phone.check_page()
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(type=Authenticator.Type.WEBAUTHN).count() == 1
    # Log out (kontaktbok's session ends; ID-porten's end-session page is left alone).
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("button", name=LOG_OUT).click()
    phone.goto("/accounts/login/")
    with page.expect_navigation(url=re.compile(re.escape(phone.base_url) + "/$")):
        page.locator("#passkey_login").click()
    phone.check_page()
    expect(page.get_by_role("main")).to_contain_text("Vassbotn")
