"""Invitations: a person added without a password gets a one-time link by e-mail and SMS;
kontor sees who has not activated and sends it again."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kontaktbok.accounts import invitations
from kontaktbok.accounts.models import Invitation
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications.models import Notification
from kontaktbok.schools import services
from tests.schools.test_guardian_contacts import _mfa_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Blåbær-og-tyttebær-2026"


def add_guardian(world, email="siri@nyland.test", responsible=True):
    return services.guardian_add(
        actor=world.office,
        pupil=world.child_a,
        full_name="Siri Nyland",
        email=email,
        phone="412 34 567",
        parental_responsibility=responsible,
    ).guardian


def link_of(user) -> str:
    notification = Notification.objects.filter(recipient=user, kind="accounts.invitation").latest(
        "pk"
    )
    return notification.url


def test_a_new_guardian_is_invited_by_e_mail_and_sms_and_chooses_a_password(world):
    siri = add_guardian(world)
    notification = Notification.objects.get(recipient=siri, kind="accounts.invitation")
    assert {d.channel for d in notification.deliveries.all()} == {"email", "sms"}
    url = notification.url
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 40 and not Invitation.objects.filter(token_digest=token).exists()
    client = Client()
    page = client.get(url)
    assert page.status_code == 200 and "siri@nyland.test" in page.content.decode()
    wrong = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": "noko anna"})
    assert wrong.status_code == 400
    siri.refresh_from_db()
    assert not siri.has_usable_password()
    done = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.url == reverse("account_login")
    siri.refresh_from_db()
    assert siri.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="accounts.invitation.accepted", actor=siri).exists()
    assert client.get(url).status_code == 410  # used once
    assert client.post(url, {"new_password1": "x", "new_password2": "x"}).status_code == 410


def test_a_guardian_without_parental_responsibility_gets_no_invitation(world):
    father = add_guardian(world, "tor@nyland.test", responsible=False)
    assert not Invitation.objects.filter(user=father).exists()


def test_the_link_works_for_seven_days_and_a_new_one_ends_the_old(world):
    siri = add_guardian(world)
    first = link_of(siri)
    with time_machine.travel(clock.now() + dt.timedelta(days=7, minutes=1)):
        assert Client().get(first).status_code == 410
    invitations.invitation_send(actor=world.office, user=siri, school=world.school)
    second = link_of(siri)
    assert second != first
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200


def test_someone_with_a_password_is_not_invited(world):
    with pytest.raises(ValidationError):
        invitations.invitation_send(actor=world.office, user=world.guardian_a, school=world.school)


def test_kontor_sees_who_has_not_activated_and_sends_again(world):
    siri = add_guardian(world)
    services.guardian_add(
        actor=world.office,
        pupil=world.child_b,
        full_name="Per Utan",
        email="per@utan.test",
        parental_responsibility=True,
    )
    Invitation.objects.filter(user__email="per@utan.test").update(expires_at=clock.now())
    client = _mfa_client(world.office)
    url = reverse("invitation_list", args=[world.school.pk])
    page = client.get(url).content.decode()
    assert page.count('data-testid="waiting"') == 2 and "Guardian A" not in page
    client.post(url, {"user": str(siri.pk)})
    assert Invitation.objects.filter(user=siri).count() == 2
    client.post(url, {"all": "1"})  # only Per's link no longer works
    assert Invitation.objects.filter(user__email="per@utan.test").count() == 2
    assert Invitation.objects.filter(user=siri).count() == 2
    other = _mfa_client(world.other_leadership)
    assert other.get(url).status_code == 404
    assert other.post(url, {"all": "1"}).status_code == 404


def test_the_link_can_make_a_passkey_instead_of_a_password(world, settings):
    siri = add_guardian(world)
    link = link_of(siri)
    client = Client()
    assert 'data-testid="invitation-passkey"' in client.get(link).content.decode()
    response = client.post(link, {"passkey": "1"})
    assert response.url == reverse("mfa_add_webauthn")
    assert client.session["_auth_user_id"] == str(siri.pk)
    # Let in once, recently: the passkey page opens without asking for a password.
    assert client.get(reverse("mfa_add_webauthn")).status_code == 200
    entry = AuditEntry.objects.get(action="accounts.invitation.accepted")
    assert entry.detail == {"with": "passkey"}
    assert Client().get(link).status_code == 410  # used up
    siri.refresh_from_db()
    assert not siri.has_usable_password()


def test_no_passkey_where_the_municipality_turned_passkeys_off(world, settings):
    settings.MFA_PASSKEY_LOGIN_ENABLED = False
    siri = add_guardian(world)
    link = link_of(siri)
    client = Client()
    assert 'data-testid="invitation-passkey"' not in client.get(link).content.decode()
    response = client.post(link, {"passkey": "1"})
    assert response.url == link
    assert "_auth_user_id" not in client.session
    assert Invitation.objects.get(user=siri).used_at is None
