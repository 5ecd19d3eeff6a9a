"""People from outside the school join a relay log with ID-porten: the holder invites the
school health nurse (or the pupil), she opens the single-use join link, logs in with
ID-porten against a real local OpenID Connect provider (oidc-provider-mock) and is bound
by her identity number; from then on she logs in with ID-porten, never with a password,
and sees nothing but the logs she takes part in."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate, get_user_model
from django.test import Client
from django.urls import reverse

from kontaktbok.accounts.models import Invitation
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.national import services as national_services
from kontaktbok.notifications.models import Notification
from kontaktbok.relaylog import services
from kontaktbok.relaylog.models import JoinLink, Participant, RelayLog
from kontaktbok.schools import services as school_services
from kontaktbok.schools.identity import nin_digest
from tests import factories
from tests.national.conftest import authorize, person, start
from tests.relaylog.helpers import consented, open_log, set_age, with_nurse

SUBSTANTIAL = "idporten-loa-substantial"
User = get_user_model()


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _join_url(participant: Participant) -> str:
    return Notification.objects.get(recipient=participant.user, kind="relaylog.join").url


def _id_porten(client: Client, issuer: str, pid: str, next_url: str = "") -> Any:
    """Log in with ID-porten (from the join page when ``next_url``): the callback's answer."""
    sub = person(issuer, pid=pid, acr=SUBSTANTIAL)
    query = f"?next={next_url}" if next_url else ""
    return client.get(authorize(start(client, "idporten", query), sub))


def _join(client: Client, issuer: str, url: str, pid: str) -> Any:
    """Open the link, log in with ID-porten through it, and press "Join"."""
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-login="idporten"' in page.content.decode()
    back = _id_porten(client, issuer, pid, url)
    assert back.status_code == 302 and back["Location"] == url, back.content[:300]
    assert 'data-testid="join"' in client.get(url).content.decode()
    return client.post(url)


def _consent_to_nurse(log: RelayLog) -> None:
    for participant in Participant.objects.filter(log=log, kind=Participant.Kind.GUARDIAN):
        services.consent_give(
            actor=participant.user, log_id=log.pk, service="Helsestasjon", language="nn"
        )


def test_the_nurse_joins_with_id_porten_and_never_gets_a_password(national, world):
    log = consented(world)
    nurse = with_nurse(world, log, consent=False)
    placeholder = nurse.user
    assert not Invitation.objects.filter(user=placeholder).exists()
    url = _join_url(nurse)
    assert url.startswith("/relaylog/join/")
    pid = factories.nin_for(dt.date(1980, 5, 17))

    client = Client()
    response = _join(client, national, url, pid)
    assert response.status_code == 302
    assert response["Location"] == reverse("relaylog_home")
    # The account made for the invitation is bound to her identity; still no password.
    placeholder.refresh_from_db()
    assert placeholder.nin_digest == nin_digest(pid)
    assert not placeholder.has_usable_password()
    assert client.session["_auth_user_id"] == str(placeholder.pk)
    assert JoinLink.objects.get(participant=nurse).used_at is not None
    assert AuditEntry.objects.filter(
        action="relaylog.participant.joined", actor=placeholder
    ).exists()
    # She reads the log only once the guardians consent to her service.
    detail = reverse("relaylog_detail", args=[log.pk])
    assert client.get(detail).status_code == 404
    home = client.get(reverse("relaylog_home")).content.decode()
    assert 'data-testid="waiting"' in home  # a number, no name
    assert log.pupil.first_name not in home and log.pupil.last_name not in home
    _consent_to_nurse(log)
    assert client.get(detail).status_code == 200
    home = client.get(reverse("relaylog_home")).content.decode()
    assert 'data-testid="waiting"' not in home and log.pupil.first_name in home

    # Next time she logs in with ID-porten and is found by her identity number.
    again = Client()
    response = _id_porten(again, national, pid)
    assert response.status_code == 302, response.content[:300]
    assert again.session["_auth_user_id"] == str(placeholder.pk)
    assert again.get(detail).status_code == 200
    # A password is no way in for her, even one set on her account.
    placeholder.set_password("Eit-passord-ho-fekk-123")
    placeholder.save(update_fields=["password"])
    assert authenticate(email=placeholder.email, password="Eit-passord-ho-fekk-123") is None
    response = Client().post(
        reverse("account_login"),
        {"login": placeholder.email, "password": "Eit-passord-ho-fekk-123"},
    )
    assert "_auth_user_id" not in response.wsgi_request.session


def test_a_used_link_says_so_and_a_second_person_cannot_use_it(national, world):
    log = consented(world)
    nurse = with_nurse(world, log)
    url = _join_url(nurse)
    first = factories.nin_for(dt.date(1980, 5, 17))
    assert _join(Client(), national, url, first).status_code == 302

    other = Client()
    other_pid = factories.nin_for(dt.date(1979, 2, 3))
    response = _id_porten(other, national, other_pid, url)
    assert response.status_code == 403  # nobody here: the not-registered page
    gone = other.get(url)
    assert gone.status_code == 410
    assert "This link is used or too old" in gone.content.decode()
    assert other.post(url).status_code == 410
    nurse.refresh_from_db()
    assert nurse.user.nin_digest == nin_digest(first)
    assert not User.objects.filter(nin_digest=nin_digest(other_pid)).exists()
    assert "_auth_user_id" not in other.session
    # Nor can a second link to the same account bind another person.
    second_log = consented(world, world.child_a)
    services.participant_invite(
        actor=second_log.holder,
        log_id=second_log.pk,
        kind=Participant.Kind.SERVICE,
        email="helsestasjon@kommune.no",
        service="Helsestasjon",
    )
    assert not JoinLink.objects.filter(participant__log=second_log).exists()  # bound already
    with pytest.raises(Exception, match="used or too old"):
        services.participant_join(token="not-a-token", pid=other_pid)


def test_no_password_reset_for_a_person_from_another_service(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    log = consented(world)
    nurse = with_nurse(world, log)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("account_reset_password"), {"email": nurse.user.email})
    assert response.status_code == 302  # the same answer as for an unknown address
    assert not [m for m in mailoutbox if "/password/reset/key/" in m.body]
    # A guardian invited by her address keeps her own way in.
    assert not services.participant_invite(
        actor=log.holder,
        log_id=log.pk,
        kind=Participant.Kind.SERVICE,
        email=world.guardian_b.email,
        service="PPT",
    ).user.nin_digest
    assert authenticate(email=world.guardian_b.email, password=factories.PASSWORD) is not None


def test_an_account_with_only_a_password_joins_with_id_porten_too(national, world):
    """Someone with an old password account and no role here, invited by that address,
    joins by the link: the password does not let them in."""
    former = factories.user("Helse Sjukepleiar")
    log = consented(world)
    nurse = services.participant_invite(
        actor=log.holder,
        log_id=log.pk,
        kind=Participant.Kind.SERVICE,
        email=former.email,
        service="Helsestasjon",
    )
    assert nurse.user == former
    assert authenticate(email=former.email, password=factories.PASSWORD) is None
    pid = factories.nin_for(dt.date(1980, 5, 17))
    client = Client()
    assert _join(client, national, _join_url(nurse), pid).status_code == 302
    former.refresh_from_db()
    assert former.nin_digest == nin_digest(pid)
    assert client.session["_auth_user_id"] == str(former.pk)


def test_an_expired_link_says_so(national, world):
    log = consented(world)
    url = _join_url(with_nurse(world, log))
    with time_machine.travel(clock.now() + dt.timedelta(days=8)):
        response = Client().get(url)
    assert response.status_code == 410
    assert "This link is used or too old" in response.content.decode()


def test_an_unknown_link_says_so_to_everyone(world):
    for client in (Client(), Client()):
        response = client.get(reverse("relaylog_join", args=["not-a-token"]))
        assert response.status_code == 410
    signed_in = Client()
    signed_in.force_login(world.leadership)
    assert signed_in.get(reverse("relaylog_join", args=["x"])).status_code == 410


def test_joining_needs_an_id_porten_login_and_the_csrf_token(national, world):
    log = consented(world)
    url = _join_url(with_nurse(world, log))
    # Signed in with a password, not ID-porten: no identity to bind.
    staff = Client()
    staff.force_login(world.leadership)
    assert staff.post(url).status_code == 403
    browser = Client()
    browser.get(url)
    back = _id_porten(browser, national, factories.nin_for(dt.date(1980, 5, 17)), url)
    assert back.status_code == 302
    strict = Client(enforce_csrf_checks=True)  # the same browser, posting without the token
    strict.cookies = browser.cookies
    assert strict.post(url).status_code == 403
    assert JoinLink.objects.get().used_at is None


def test_the_participation_moves_to_the_account_the_person_already_has(national, world):
    """A guardian at another school (known by ID-porten) is the nurse: she is logged in as
    herself and the account made for the invitation is left unusable."""
    school = factories.school()
    year = factories.school_year(school)
    group = school_services.group_create(actor=None, school_year=year, name="2A", grade=2)
    pid = factories.nin_for(dt.date(1983, 9, 9))
    herself = factories.user("Helga Foresett", nin=pid)
    school_services.guardianship_set(actor=None, guardian=herself, pupil=factories.pupil(group))
    log = consented(world)
    nurse = with_nurse(world, log)
    placeholder, url = nurse.user, _join_url(nurse)

    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    back = _id_porten(client, national, pid, url)  # a guardian: logged in as herself
    assert back.status_code == 302 and back["Location"] == url
    assert client.session["_auth_user_id"] == str(herself.pk)
    assert client.post(url).status_code == 302
    nurse.refresh_from_db()
    assert nurse.user == herself
    placeholder.refresh_from_db()
    assert not placeholder.is_active and placeholder.email is None
    assert placeholder.nin_digest is None
    assert client.get(reverse("relaylog_detail", args=[log.pk])).status_code == 200


def test_a_citizen_account_gets_the_participation_too(national, world):
    pid = factories.nin_for(dt.date(1975, 1, 30))
    existing = national_services.citizen_account(pid=pid, name="Siri Borgar")
    log = consented(world)
    nurse = with_nurse(world, log)
    client = Client()
    assert _join(client, national, _join_url(nurse), pid).status_code == 302
    nurse.refresh_from_db()
    assert nurse.user == existing
    assert client.session["_auth_user_id"] == str(existing.pk)
    assert User.objects.filter(nin_digest=nin_digest(pid)).count() == 1


def test_a_first_citizen_login_at_the_same_moment_does_not_break_the_join(world, monkeypatch):
    """The same person's citizen account is made by another request between the join's
    look for the identity and its binding: the join moves to that account."""
    pid = factories.nin_for(dt.date(1975, 1, 30))
    log = consented(world)
    nurse = with_nurse(world, log)
    token = _join_url(nurse).rstrip("/").rsplit("/", 1)[1]
    made: dict[str, Any] = {}
    real = services._account_with

    def look(digest: str) -> Any:
        if not made:
            made["user"] = national_services.citizen_account(pid=pid, name="Helga")
            return None
        return real(digest)

    monkeypatch.setattr(services, "_account_with", look)
    user, participant = services.participant_join(token=token, pid=pid)
    assert user == made["user"] and participant.user == user
    assert User.objects.filter(nin_digest=nin_digest(pid)).count() == 1
    nurse.refresh_from_db()
    assert nurse.user == user


def test_the_pupil_joins_only_with_their_own_identity(national, world):
    pupil_pid = factories.nin_for(dt.date(2010, 4, 4))
    set_age(world.child_a2, 16)
    world.child_a2.nin_digest = nin_digest(pupil_pid)
    world.child_a2.save(update_fields=["nin_digest"])
    log = consented(world)
    invited = services.participant_invite(
        actor=world.leadership,
        log_id=log.pk,
        kind=Participant.Kind.PUPIL,
        email="aksel@elev.no",
        full_name="Aksel Elev",
    )
    url = _join_url(invited)
    someone = Client()
    response = _join(someone, national, url, factories.nin_for(dt.date(1970, 1, 1)))
    assert response.status_code == 400
    assert "The pupil must log in with their own ID-porten" in response.content.decode()
    assert JoinLink.objects.get(participant=invited).used_at is None

    pupil = Client()
    assert _join(pupil, national, url, pupil_pid).status_code == 302
    invited.refresh_from_db()
    assert invited.user.nin_digest == nin_digest(pupil_pid)
    services.consent_give(actor=invited.user, log_id=log.pk, language="nb")
    log.refresh_from_db()
    assert log.state == RelayLog.State.ACTIVE


def test_an_outsider_sees_nothing_but_the_logs_she_takes_part_in(national, world):
    log = consented(world)
    nurse = with_nurse(world, log)
    pid = factories.nin_for(dt.date(1980, 5, 17))
    client = Client()
    assert _join(client, national, _join_url(nurse), pid).status_code == 302
    # Another pupil's log (Anna, the same family), and Bror's log of another family.
    others = [consented(world, world.child_a), consented(world, world.child_b)]
    for other in others:
        for name in ("relaylog_detail", "relaylog_reads", "relaylog_close"):
            assert client.get(reverse(name, args=[other.pk])).status_code == 404
        response = client.post(reverse("relaylog_entry_add", args=[other.pk]), {"body": "Sjå her"})
        assert response.status_code == 404
        assert client.get(f"/api/v1/relaylogs/{other.pk}").status_code == 404
    listed = client.get("/api/v1/relaylogs/").json()
    assert [row["id"] for row in listed] == [log.pk]
    # No pupil's page, not even of the pupil of her own log.
    for pupil in (world.child_a, world.child_a2, world.child_b):
        assert client.get(f"/pupils/{pupil.pk}/").status_code in (403, 404)
    home = client.get("/", follow=True).content.decode()
    assert "Anna" not in home and "Bror" not in home


def test_a_removed_participant_no_longer_logs_in_with_id_porten(national, world):
    log = consented(world)
    nurse = with_nurse(world, log)
    pid = factories.nin_for(dt.date(1980, 5, 17))
    assert _join(Client(), national, _join_url(nurse), pid).status_code == 302
    services.participant_remove(actor=log.holder, log_id=log.pk, participant_id=nurse.pk)
    response = _id_porten(Client(), national, pid)
    assert response.status_code == 403
    assert "not registered" in response.content.decode()


def test_a_link_of_a_removed_participant_says_so(world):
    log = open_log(world)
    nurse = with_nurse(world, log, consent=False)
    url = _join_url(nurse)
    services.participant_remove(actor=log.holder, log_id=log.pk, participant_id=nurse.pk)
    client = Client()
    assert client.get(url).status_code == 410
    assert national_services.FOLLOW not in client.session  # no login was asked for
