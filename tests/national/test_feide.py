"""Feide login for staff against a real local OpenID Connect provider: staff are found by
their Feide id; whole-school roles need Feide's MFA level or kontaktbok's second factor."""

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client

from kontaktbok.accounts.mfa import passed_mfa
from kontaktbok.national.conf import FEIDE_MFA_ACR
from kontaktbok.national.models import NationalSession
from kontaktbok.schools.models import StaffMember, StaffRole
from tests import factories
from tests.national.conftest import login, params, start

Role = StaffRole.Role
EPPN = "https://n.feide.no/claims/eduPersonPrincipalName"


def member(school, role, feide_id, group=None):
    user = factories.staff(school, role, group=group)
    StaffMember.objects.filter(user=user).update(feide_id=feide_id)
    return user


def test_a_contact_teacher_logs_in_with_feide(national, family):
    teacher = member(family["school"], Role.CONTACT_TEACHER, "marit@skule.no", family["group"])
    client = Client()
    response, _ = login(client, national, "feide", **{EPPN: "Marit@skule.no"})
    assert response.status_code == 302, response.content[:300]
    assert client.session["_auth_user_id"] == str(teacher.pk)
    assert "Ingrid" in client.get("/", follow=True).content.decode()


def test_the_feideid_claim_also_finds_the_staff_member(national, family):
    teacher = member(family["school"], Role.TEACHER, "ola@skule.no", family["group"])
    client = Client()
    response, _ = login(client, national, "feide", feideid="ola@skule.no")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(teacher.pk)


def test_an_unknown_feide_user_is_not_let_in(national, family):
    member(family["school"], Role.TEACHER, "ola@skule.no", family["group"])
    client = Client()
    response, _ = login(client, national, "feide", **{EPPN: "nokon@annan.no"})
    assert response.status_code == 403
    assert "not registered on a staff member" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_kontor_without_the_mfa_level_or_a_second_factor_is_refused(national, family):
    member(family["school"], Role.OFFICE, "kontor@skule.no")
    client = Client()
    response, _ = login(
        client,
        national,
        "feide",
        acr="urn:mace:feide.no:auth:level:fad08:2",
        **{EPPN: "kontor@skule.no"},
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "requires two-factor login" in body
    assert "?mfa=1" in body  # a way back in with Feide's two-factor login
    assert "_auth_user_id" not in client.session


def test_the_mfa_button_asks_feide_for_the_mfa_level(national):
    assert "acr_values" not in params(start(Client(), "feide"))
    assert params(start(Client(), "feide", "?mfa=1"))["acr_values"] == FEIDE_MFA_ACR
    # ID-porten's level is never changed that way.
    assert params(start(Client(), "idporten", "?mfa=1"))["acr_values"] != FEIDE_MFA_ACR


def test_kontor_at_feides_mfa_level_is_let_in_with_two_factors(national, family):
    office = member(family["school"], Role.OFFICE, "kontor@skule.no")
    TOTP.activate(office, factories.TOTP_SECRET)  # asked for neither: Feide's level counts
    client = Client()
    response, _ = login(client, national, "feide", acr=FEIDE_MFA_ACR, **{EPPN: "kontor@skule.no"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(office.pk)
    page = client.get("/")
    assert passed_mfa(page.wsgi_request)


def test_kontor_without_the_mfa_level_is_asked_for_the_second_factor(national, family):
    office = member(family["school"], Role.OFFICE, "kontor@skule.no")
    TOTP.activate(office, factories.TOTP_SECRET)
    client = Client()
    response, _ = login(client, national, "feide", **{EPPN: "kontor@skule.no"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    counter = next(iter(yield_hotp_counters_from_time()))
    code = format_hotp_value(hotp_value(factories.TOTP_SECRET, counter))
    done = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(office.pk)
    assert passed_mfa(client.get("/").wsgi_request)
    # The Feide session is known by its sid, for the provider's logout.
    assert NationalSession.objects.filter(user=office, provider="feide").count() == 1


def test_kontor_at_feides_mfa_level_needs_no_second_factor_of_kontaktbok(national, family):
    office = member(family["school"], Role.OFFICE, "kontor@skule.no")
    client = Client()
    response, _ = login(client, national, "feide", acr=FEIDE_MFA_ACR, **{EPPN: "kontor@skule.no"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(office.pk)
    home = client.get("/")
    assert home.status_code == 200  # not sent to set up an authenticator app
    # The same person logged in by password (no Feide) must still set one up.
    other = Client()
    other.force_login(office)
    assert other.get("/")["Location"] == "/accounts/2fa/totp/activate/"
