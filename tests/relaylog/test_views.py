"""The relay log pages, as each person uses them."""

import pytest
from django.test import Client
from django.urls import reverse

from kontaktbok.accounts.models import Invitation
from kontaktbok.core.models import AuditEntry
from kontaktbok.relaylog.models import Consent, Entry, JoinLink, Participant, RelayLog
from tests.relaylog.helpers import consented, open_log, set_age

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_leadership_opens_a_log_from_the_page(world):
    client = _as(world.leadership)
    page = client.get(reverse("relaylog_create"))
    assert page.status_code == 200
    response = client.post(
        reverse("relaylog_create"),
        {
            "pupil": world.child_a2.pk,
            "concern": "Uro for Aksel",
            "level": "1",
            "holder": world.leadership.pk,
        },
    )
    log = RelayLog.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/relaylog/{log.pk}/"
    assert log.state == RelayLog.State.DRAFT


def test_a_missing_concern_is_refused_with_a_message_and_nothing_stored(world):
    response = _as(world.leadership).post(
        reverse("relaylog_create"),
        {"pupil": world.child_a2.pk, "concern": "", "level": "1", "holder": world.leadership.pk},
    )
    assert response.status_code == 400
    assert "ds-error-summary" in response.content.decode()
    assert not RelayLog.objects.exists()


def test_the_guardian_consents_on_the_consent_page(world):
    log = open_log(world)
    client = _as(world.guardian_a)
    page = client.get(reverse("relaylog_consent", args=[log.pk]))
    assert page.status_code == 200
    assert "Aksel" in page.content.decode()
    response = client.post(
        reverse("relaylog_consent", args=[log.pk]), {"confirm": "yes", "service": ""}
    )
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.state == RelayLog.State.ACTIVE
    # Consented: the page for it is gone.
    assert client.get(reverse("relaylog_consent", args=[log.pk])).status_code == 404


def test_every_read_is_listed_for_the_guardian(world):
    log = consented(world)
    entry_client = _as(world.leadership)
    entry_client.post(reverse("relaylog_entry_add", args=[log.pk]), {"body": "Møte i dag"})
    assert entry_client.get(reverse("relaylog_detail", args=[log.pk])).status_code == 200
    reads = _as(world.guardian_a).get(reverse("relaylog_reads", args=[log.pk]))
    content = reads.content.decode()
    assert "Principal" in content
    rows = AuditEntry.objects.filter(
        actor=world.leadership, action__in=["relaylog.log.read", "relaylog.entry.read"]
    )
    assert rows.count() == 2


def test_an_empty_entry_is_refused_with_a_message(world):
    log = consented(world)
    response = _as(world.guardian_a).post(
        reverse("relaylog_entry_add", args=[log.pk]), {"body": " "}
    )
    assert response.status_code == 400
    assert not Entry.objects.exists()


def test_the_holder_invites_a_service_person_who_gets_a_join_link(world):
    log = consented(world)
    response = _as(world.leadership).post(
        reverse("relaylog_invite", args=[log.pk]),
        {
            "kind": "service",
            "full_name": "Helse Sjukepleiar",
            "email": "hs@kommune.no",
            "service": "Helsestasjon",
        },
    )
    assert response.status_code == 302
    nurse = Participant.objects.get(log=log, kind="service")
    # A link to join with ID-porten, never one to choose a password.
    assert JoinLink.objects.filter(participant=nurse).exists()
    assert not Invitation.objects.filter(user=nurse.user).exists()
    assert not nurse.user.has_usable_password()
    # Until the guardian consents to her service, she sees nothing.
    nurse_client = _as(nurse.user)
    assert nurse_client.get(reverse("relaylog_detail", args=[log.pk])).status_code == 404
    assert nurse_client.get(reverse("relaylog_home")).status_code == 200
    _as(world.guardian_a).post(
        reverse("relaylog_consent", args=[log.pk]), {"confirm": "yes", "service": "Helsestasjon"}
    )
    assert Consent.objects.filter(log=log, service="Helsestasjon").exists()
    assert nurse_client.get(reverse("relaylog_detail", args=[log.pk])).status_code == 200
    # The others see that she has not joined with ID-porten yet, until she has.
    page = _as(world.guardian_a).get(reverse("relaylog_detail", args=[log.pk]))
    assert page.content.decode().count('data-testid="not-joined"') == 1
    type(nurse.user).objects.filter(pk=nurse.user.pk).update(nin_digest="x" * 64)
    page = _as(world.guardian_a).get(reverse("relaylog_detail", args=[log.pk]))
    assert 'data-testid="not-joined"' not in page.content.decode()


def test_the_pupil_of_age_is_invited_from_the_page(world):
    set_age(world.child_a2, 16)
    log = consented(world)
    response = _as(world.leadership).post(
        reverse("relaylog_invite", args=[log.pk]),
        {"kind": "pupil", "full_name": "Aksel", "email": "aksel@elev.no"},
    )
    assert response.status_code == 302
    assert Participant.objects.filter(log=log, kind="pupil").exists()


def test_the_guardian_closes_and_downloads_the_pdf(world):
    log = consented(world)
    client = _as(world.guardian_a)
    assert client.get(reverse("relaylog_close", args=[log.pk])).status_code == 200
    response = client.post(reverse("relaylog_close", args=[log.pk]), {"reason": "guardians"})
    assert response.status_code == 302
    detail = client.get(reverse("relaylog_detail", args=[log.pk])).content.decode()
    assert "can only be read" in detail or "berre lesast" in detail or "kan berre" in detail
    assert 'name="body"' not in detail
    pdf = client.get(reverse("relaylog_document", args=[log.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(
        action="relaylog.document.read", actor=world.guardian_a
    ).exists()


def test_the_api_lists_and_reads_only_ones_own_logs(world):
    log = consented(world)
    client = _as(world.guardian_a)
    listed = client.get("/api/v1/relaylogs/").json()
    assert [item["id"] for item in listed] == [log.pk]
    assert _as(world.guardian_b).get("/api/v1/relaylogs/").json() == []
    created = client.post(
        f"/api/v1/relaylogs/{log.pk}/entries",
        data={"body": "Frå API"},
        content_type="application/json",
    )
    assert created.status_code == 201
    detail = client.get(f"/api/v1/relaylogs/{log.pk}").json()
    assert [e["body"] for e in detail["entries"]] == ["Frå API"]
    empty = client.post(
        f"/api/v1/relaylogs/{log.pk}/entries", data={"body": ""}, content_type="application/json"
    )
    assert empty.status_code == 422


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_log_page_does_not_grow_with_the_log(world):
    import datetime as dt

    from kontaktbok.core import clock
    from kontaktbok.relaylog import services
    from tests.relaylog.helpers import scanned_form, with_nurse

    log = consented(world)
    nurse = with_nurse(world, log)
    first = services.goal_add(actor=world.leadership, log_id=log.pk, text="Mål")
    measure = services.measure_add(
        actor=world.leadership,
        log_id=log.pk,
        goal_id=first.pk,
        text="Tiltak",
        responsible="Kontaktlærar",
        deadline=clock.today(),
        evaluate_on=clock.today(),
    )
    services.evaluation_add(
        actor=world.leadership, log_id=log.pk, measure_id=measure.pk, text="Bra", outcome="continue"
    )
    services.entry_add(actor=world.leadership, log_id=log.pk, body="Første")
    url = reverse("relaylog_detail", args=[log.pk])
    clients = {
        "guardian": _as(world.guardian_a),
        "nurse": _as(nurse.user),
        "holder": _as(world.leadership),
    }
    for client in clients.values():
        client.get(url)  # a first visit records the session's last seen
    before = {who: _queries(client, url) for who, client in clients.items()}
    for n in range(3):
        goal = services.goal_add(actor=world.leadership, log_id=log.pk, text=f"Mål {n}")
        measure = services.measure_add(
            actor=world.leadership,
            log_id=log.pk,
            goal_id=goal.pk,
            text="Tiltak",
            responsible="Kontaktlærar",
            deadline=clock.today() + dt.timedelta(days=9),
            evaluate_on=clock.today() + dt.timedelta(days=7),
        )
        services.evaluation_add(
            actor=world.leadership,
            log_id=log.pk,
            measure_id=measure.pk,
            text="Bra",
            outcome="continue",
        )
        services.entry_add(
            actor=world.guardian_a, log_id=log.pk, body=f"Føring {n}", attachment=scanned_form()
        )
    after = {who: _queries(client, url) for who, client in clients.items()}
    assert after == before
    assert max(after.values()) <= 15


def test_leadership_lets_a_staff_member_open_logs(world):
    client = _as(world.leadership)
    url = reverse("relaylog_creators", args=[world.school.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"user": world.contact_teacher_b.pk}).status_code == 302
    teacher = _as(world.contact_teacher_b)
    assert teacher.get(reverse("relaylog_create")).status_code == 200
    assert teacher.get(url).status_code == 404
    refused = client.post(url, {"user": world.guardian_a.pk})
    assert refused.status_code == 400


@pytest.mark.parametrize("language", ["nn", "nb", "en"])
def test_the_consent_is_confirmed_in_the_persons_language(world, language):
    from django.utils import translation

    from kontaktbok.relaylog.services import consent_text

    log = open_log(world)
    world.guardian_a.language = language
    world.guardian_a.save(update_fields=["language"])
    client = _as(world.guardian_a)
    page = client.get(reverse("relaylog_consent", args=[log.pk]))
    expected = consent_text(log, "", language)
    assert expected in page.content.decode().replace("&#x27;", "'")
    client.post(reverse("relaylog_consent", args=[log.pk]), {"confirm": "yes", "service": ""})
    consent = Consent.objects.get(log=log)
    assert consent.language == language
    assert consent.text == expected
    translation.activate("nn")
