"""Every URL and API endpoint of a log, tried by those who must never reach it: a staff
member who does not take part (the contact teacher, leiing, kontor), a service whose
consent was withdrawn, a guardian without parental responsibility, the restricted guardian
of a pupil with a protected address, and a participant of another pupil's log. Each gets
404, and nothing of the log changes."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.relaylog import services
from kontaktbok.relaylog.models import Consent, Entry, Participant, RelayLog
from tests.factories import every_role
from tests.relaylog import matrix
from tests.relaylog.helpers import consented, with_nurse

pytestmark = pytest.mark.django_db

# Every URL of one log, with what it accepts.
LOG_URLS = [
    ("relaylog_detail", ["get"]),
    ("relaylog_consent", ["get", "post"]),
    ("relaylog_consent_paper", ["get", "post"]),
    ("relaylog_consent_withdraw", ["post"]),
    ("relaylog_invite", ["get", "post"]),
    ("relaylog_entry_add", ["post"]),
    ("relaylog_attachment", ["get"]),
    ("relaylog_plan", ["get", "post"]),
    ("relaylog_handover", ["post"]),
    ("relaylog_handover_answer", ["post"]),
    ("relaylog_level", ["post"]),
    ("relaylog_reads", ["get"]),
    ("relaylog_close", ["get", "post"]),
    ("relaylog_document", ["get"]),
    ("api-1:relaylog_detail", ["get"]),
    ("api-1:relaylog_entry_add", ["post"]),
]
BODY = {
    "body": "Ny føring",
    "confirm": "yes",
    "answer": "accept",
    "level": "2",
    "reason": "guardians",
    "action": "goal",
    "goal-text": "Mål",
    "kind": "staff",
    "to_user": "1",
}


def test_every_url_of_a_log_is_tried():
    from tests.test_access_matrix import served_urls

    served = {
        name for ns, name, _route in served_urls() if name and "relaylog" in name and ns != "admin"
    }
    not_of_one_log = {
        "relaylog_home",
        "relaylog_create",
        "relaylog_counts",
        "relaylog_creators",
        "relaylog_join",  # by its token, tried in test_join.py
        "api-1:relaylog_list",
    }
    assert served - not_of_one_log == {name for name, _methods in LOG_URLS}


def _kwargs(name: str, log: RelayLog) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"log_id": log.pk}
    if name == "relaylog_consent_withdraw":
        kwargs["consent_id"] = Consent.objects.filter(log=log).first().pk
    if name == "relaylog_attachment":
        kwargs["attachment_uuid"] = log.attachments.first().uuid
    if name == "relaylog_handover_answer":
        kwargs["handover_id"] = log.handovers.first().pk
    return kwargs


def _assert_404_everywhere(client: Client, log: RelayLog) -> None:
    entries, consents = Entry.objects.count(), Consent.objects.filter(withdrawn_at=None).count()
    reads = AuditEntry.objects.filter(action__startswith="relaylog.", actor=client.user_).count()
    failures = []
    for name, methods in LOG_URLS:
        url = reverse(name, kwargs=_kwargs(name, log))
        for method in methods:
            if name.startswith("api-1:") and method == "post":
                response = client.post(url, data=BODY, content_type="application/json")
            else:
                response = getattr(client, method)(url, BODY if method == "post" else None)
            if response.status_code != 404:
                failures.append(f"{method} {name}: {response.status_code}")
    assert not failures, failures
    assert Entry.objects.count() == entries
    assert Consent.objects.filter(withdrawn_at=None).count() == consents
    log.refresh_from_db()
    assert log.is_open
    assert (
        AuditEntry.objects.filter(action__startswith="relaylog.", actor=client.user_).count()
        == reads
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    client.user_ = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def full(world):
    return every_role(world)


@pytest.fixture
def vern(full) -> RelayLog:
    """Vern's active log, with an entry, a file and a handover waiting."""
    log = matrix.vern_active(full)
    services.handover_request(actor=full.advisor, log_id=log.pk, to_user_id=matrix.nurse(log).pk)
    return log


@pytest.mark.parametrize(
    "actor",
    [
        "contact_teacher_b",
        "leadership",
        "office",
        "class_team_b",
        "school_admin",
        "restricted_guardian",
    ],
)
def test_staff_who_do_not_take_part_and_the_restricted_guardian_get_404(full, vern, actor):
    _assert_404_everywhere(_client(getattr(full, actor)), vern)


def test_a_service_whose_consent_was_withdrawn_gets_404(full, vern):
    nurse = matrix.nurse(vern)
    consent = Consent.objects.get(log=vern, service="Helsestasjon")
    assert _client(nurse).get(reverse("relaylog_detail", args=[vern.pk])).status_code == 200
    services.consent_withdraw(actor=full.guardian_b, log_id=vern.pk, consent_id=consent.pk)
    _assert_404_everywhere(_client(nurse), vern)


def test_a_participant_of_another_pupils_log_gets_404(full, vern):
    other = consented(full)  # Aksel's, opened by leiing: guardian A takes part
    with_nurse(full, other)
    assert Participant.objects.filter(log=other, user=full.guardian_a).exists()
    for user in (full.guardian_a, Participant.objects.get(log=other, kind="service").user):
        _assert_404_everywhere(_client(user), vern)


def test_a_guardian_without_parental_responsibility_gets_404(full):
    log = consented(full, full.child_b, holder=full.leadership)
    services.entry_add(actor=full.leadership, log_id=log.pk, body="x")
    services.participant_invite(
        actor=full.leadership, log_id=log.pk, kind="staff", user_id=full.contact_teacher_a.pk
    )
    services.handover_request(
        actor=full.leadership, log_id=log.pk, to_user_id=full.contact_teacher_a.pk
    )
    from tests.relaylog.helpers import scanned_form

    services.entry_add(actor=full.leadership, log_id=log.pk, body="Fil", attachment=scanned_form())
    _assert_404_everywhere(_client(full.guardian_without_responsibility), log)


def test_leadership_sees_only_a_count_without_names(full, vern):
    client = _client(full.leadership)
    response = client.get(reverse("relaylog_counts", args=[full.school.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert full.protected_child.last_name not in content
    assert response.context["levels"] == [(0, 0), (1, 1), (2, 0), (3, 0)]
    home = client.get(reverse("relaylog_home")).content.decode()
    assert full.protected_child.last_name not in home
