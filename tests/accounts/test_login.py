"""Login, rate limits, multi-factor for leiing, staff time-outs, logout, password reset."""

import datetime as dt
import email
import email.policy
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from tests import factories
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def login(client, email_address, password=PASSWORD):
    return client.post(LOGIN, {"login": email_address, "password": password})


def error_text(response):
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_login_with_password_lands_on_home(world):
    client = Client()
    response = login(client, world.guardian_a.email)
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert "Borna mine" in home.content.decode()
    entry = AuditEntry.objects.get(action="accounts.login")  # the login history
    assert entry.actor == world.guardian_a
    assert entry.detail == {"backend": "VerifiedEmailBackend"}


def test_wrong_login_does_not_reveal_whether_the_account_exists(world):
    known = login(Client(), world.guardian_a.email, "feil-passord")
    unknown = login(Client(), "finst-ikkje@example.test", "feil-passord")
    assert known.status_code == unknown.status_code == 200
    assert error_text(known) == error_text(unknown)
    assert error_text(known)


def test_failed_logins_slow_an_attacker_but_lapse(world):
    with time_machine.travel(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC), tick=False) as t:
        for _ in range(5):
            login(Client(), world.guardian_a.email, "feil-passord")
        blocked = login(Client(), world.guardian_a.email)
        assert blocked.status_code in (200, 429)
        assert not blocked.wsgi_request.user.is_authenticated
        t.shift(dt.timedelta(minutes=6))
        allowed = login(Client(), world.guardian_a.email)
        assert allowed.status_code == 302


@pytest.mark.parametrize(("proxies", "other_family_locked_out"), [(1, False), (0, True)])
def test_behind_the_proxy_each_client_has_its_own_login_limit(
    world, settings, proxies, other_family_locked_out
):
    """All requests come from the proxy's address; with the proxy counted, ten wrong
    passwords from one client do not lock out a family elsewhere."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    with time_machine.travel(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC), tick=False):
        for n in range(11):
            attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
            login(attacker, f"gjett-{n}@example.test", "feil-passord")
        family = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
        response = login(family, world.guardian_b.email)
    assert response.wsgi_request.user.is_authenticated is not other_family_locked_out


def test_only_an_address_the_user_owns_logs_them_in(world):
    """Guardian B adds guardian A's address to their own account, unconfirmed: it lets
    nobody in as B, and A still logs in with it."""
    EmailAddress.objects.create(user=world.guardian_b, email=world.guardian_a.email)
    EmailAddress.objects.create(user=world.guardian_b, email="b-ekstra@example.test")
    for address in (world.guardian_a.email, "b-ekstra@example.test"):
        client = Client()
        login(client, address)
        assert client.session.get("_auth_user_id") != str(world.guardian_b.pk)
    client = Client()
    assert login(client, world.guardian_a.email).status_code == 302
    assert client.session["_auth_user_id"] == str(world.guardian_a.pk)
    EmailAddress.objects.filter(email="b-ekstra@example.test").update(verified=True)
    client = Client()
    assert login(client, "b-ekstra@example.test").status_code == 302
    assert client.session["_auth_user_id"] == str(world.guardian_b.pk)


def test_adding_an_address_needs_the_password_again(world):
    with time_machine.travel(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)) as t:
        client = Client()
        login(client, world.guardian_a.email)
        t.shift(dt.timedelta(minutes=10))
        response = client.post(
            reverse("account_email"), {"action_add": "", "email": "ny@example.test"}
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        assert not EmailAddress.objects.filter(email="ny@example.test").exists()


@pytest.mark.parametrize("who", ["office", "leadership", "school_admin", "superuser"])
def test_whole_school_roles_and_superusers_must_set_up_a_second_factor(world, who):
    if who == "superuser":
        user = factories.user("Superuser")
        user.is_staff = user.is_superuser = True
        user.save()
    else:
        user = getattr(world, who)
        Authenticator.objects.filter(user=user).delete()
    client = Client()
    login(client, user.email)
    for path in ("/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
    assert client.get("/api/v1/absence/reports").status_code == 403
    # Adding a second factor asks for the password once more, then shows the set-up page.
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert "code" in page.context["form"].fields


def test_a_teacher_needs_no_second_factor(world):
    client = Client()
    login(client, world.contact_teacher_a.email)
    assert client.get("/").status_code == 200


def test_the_admin_logs_in_through_the_apps_login(world):
    """The admin's own login had no rate limit and no second factor: it is not used."""
    response = Client().get("/admin/login/?next=/admin/schools/pupil/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fschools%2Fpupil%2F"
    assert Client().get("/admin/login/?next=https://evil.example/").headers["Location"] == (
        "/accounts/login/"
    )
    assert Client().post("/admin/login/", {"username": "x", "password": "y"}).status_code == 302
    client = Client()
    client.force_login(world.contact_teacher_a)
    assert client.get("/admin/login/").status_code == 403


def test_leadership_with_totp_is_asked_for_the_code(world):
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    client = Client()
    response = login(client, world.leadership.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not client.get("/").wsgi_request.user.is_authenticated
    counter = next(iter(yield_hotp_counters_from_time()))
    code = format_hotp_value(hotp_value("JBSWY3DPEHPK3PXP", counter))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_security_key_button_belongs_to_the_security_key_form(world):
    client = Client()
    login(client, world.leadership.email)
    html = client.get(reverse("mfa_authenticate")).content.decode()
    assert 'form="webauthn_form"' in html
    assert re.search(r'<form [^>]*id="webauthn_form"', html)


def test_staff_session_ends_after_idle_time(world):
    client = Client()
    with time_machine.travel(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC), tick=False) as t:
        login(client, world.contact_teacher_a.email)
        assert client.get("/").status_code == 200
        t.shift(dt.timedelta(minutes=20))
        assert client.get("/").status_code == 200
        t.shift(dt.timedelta(minutes=31))
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        assert not client.get("/").wsgi_request.user.is_authenticated


def test_staff_session_ends_after_absolute_time_even_when_active(world):
    client = Client()
    with time_machine.travel(dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC), tick=False) as t:
        login(client, world.contact_teacher_a.email)
        for _ in range(21):
            t.shift(dt.timedelta(minutes=29))
            if client.get("/").status_code != 200:
                break
        assert client.get("/")["Location"].startswith(LOGIN)


def test_guardian_session_is_not_cut_after_an_hour(world):
    client = Client()
    with time_machine.travel(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC), tick=False) as t:
        login(client, world.guardian_a.email)
        t.shift(dt.timedelta(hours=3))
        assert client.get("/").status_code == 200


def test_logout(world):
    client = Client()
    login(client, world.guardian_a.email)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get("/")["Location"].startswith(LOGIN)


def test_password_reset_by_email_through_a_real_smtp_server(
    world, smtp_server, django_capture_on_commit_callbacks
):
    client = Client()
    # The e-mail is queued when the request's transaction commits, then sent by the worker.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": world.guardian_a.email})
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == [world.guardian_a.email]
    message = email.message_from_bytes(envelope.content)
    body = (
        message.get_payload(decode=True)
        if not message.is_multipart()
        else message.get_payload(0).get_payload(decode=True)
    )
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", body.decode()).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "Nytt-passord-2026!"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302
    assert login(Client(), world.guardian_a.email, new_password).status_code == 302
    assert login(Client(), world.guardian_a.email, PASSWORD).status_code == 200


def test_account_emails_are_signed_by_the_municipality_not_the_host(
    world, smtp_server, django_capture_on_commit_callbacks
):
    """ "Hello from 127.0.0.1:8102!" told a guardian nothing: an installation that serves one
    municipality signs with its name (with several, "kontaktbok")."""
    from kontaktbok.schools.models import Municipality, School

    School.objects.update(municipality=world.school.municipality)
    Municipality.objects.exclude(pk=world.school.municipality_id).delete()
    name = world.school.municipality.name
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("account_reset_password"), {"email": world.guardian_a.email})
    message = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Hei frå {name}!" in body
    assert message["Subject"].startswith(f"[{name}] ")


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(
    world, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("account_reset_password"), {"email": "ukjend@example.test"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(smtp_server.messages) <= 1
    assert all(
        "ukjend@example.test" not in m.rcpt_tos
        for m in smtp_server.messages
        if "nullstill" in m.content.decode().lower()
    )
    assert not AuditEntry.objects.filter(action__startswith="accounts.password").exists()
