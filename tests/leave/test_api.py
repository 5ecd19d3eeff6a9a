"""The leave JSON API: the right actor gets the answer, anyone else 404."""

import datetime as dt

import pytest
from django.test import Client

from kontaktbok.leave import services
from kontaktbok.leave.models import Appeal, Decision, LeaveApplication
from tests.leave.helpers import MONDAY, apply, decide, second_guardian
from tests.query_counts import assert_same_count, counted

BASE = "/api/v1/leave"

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.cookies["kontaktbok_language"] = "en"
    client.force_login(user)
    return client


def body(world, **changes):
    data = {
        "pupil_id": world.child_a.pk,
        "start_date": MONDAY.isoformat(),
        "end_date": "2027-01-12",
        "category": "travel",
        "reason": "Bryllaup",
        "learning_plan": "Lekser",
        "rules_confirmed": True,
    }
    data.update(changes)
    return data


def post(client, path, data=None, **headers):
    return client.post(
        f"{BASE}{path}", data or {}, content_type="application/json", headers=headers
    )


def test_apply_with_idempotency_key_and_read_back(world):
    client = client_for(world.guardian_a)
    first = post(client, "/applications", body(world), **{"Idempotency-Key": "abc"})
    again = post(client, "/applications", body(world), **{"Idempotency-Key": "abc"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    data = first.json()
    assert data["school_days"] == 2 and data["status"] == "submitted"
    assert data["decider_role"] == "contact_teacher" and data["late"] is False
    listed = client.get(f"{BASE}/applications").json()
    assert [a["id"] for a in listed] == [data["id"]]
    assert LeaveApplication.objects.count() == 1


def test_bad_input_answers_422_with_the_field(world):
    client = client_for(world.guardian_a)
    response = post(client, "/applications", body(world, end_date="2027-01-01"))
    assert response.status_code == 422
    assert "end_date" in response.json()["errors"]
    response = post(client, "/applications", body(world, rules_confirmed=False))
    assert "rules_confirmed" in response.json()["errors"]
    assert not LeaveApplication.objects.exists()


def test_another_familys_child_is_404(world):
    client = client_for(world.guardian_b)
    assert post(client, "/applications", body(world)).status_code == 404
    application = apply(world)
    assert client.get(f"{BASE}/applications/{application.pk}").status_code == 404
    assert client.get(f"{BASE}/applications?pupil_id={world.child_a.pk}").status_code == 404
    assert post(client, f"/applications/{application.pk}/withdraw").status_code == 404


def test_consent_decision_appeal_and_reconsideration(world):
    other = second_guardian(world)
    created = post(client_for(world.guardian_a), "/applications", body(world)).json()
    assert created["status"] == "awaiting_consent"
    assert created["consents"][0]["guardian_id"] == other.pk
    pk = created["id"]

    agreed = post(client_for(other), f"/applications/{pk}/consent", {"agree": True})
    assert agreed.status_code == 200 and agreed.json()["status"] == "submitted"

    teacher = client_for(world.contact_teacher_a)
    assert [a["id"] for a in teacher.get(f"{BASE}/queue").json()] == [pk]
    refused = post(teacher, f"/applications/{pk}/decision", {"outcome": "declined", "reasons": ""})
    assert refused.status_code == 422 and "reasons" in refused.json()["errors"]
    decided = post(
        teacher, f"/applications/{pk}/decision", {"outcome": "declined", "reasons": "Prøveveke."}
    )
    assert decided.status_code == 201
    decision = decided.json()["decisions"][0]
    assert decision["appeal_deadline"] == "2026-12-15"
    letter = client_for(other).get(f"{BASE}/decisions/{decision['id']}/letter")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert (
        client_for(world.guardian_b).get(f"{BASE}/decisions/{decision['id']}/letter").status_code
        == 404
    )

    appealed = post(client_for(other), f"/applications/{pk}/appeal", {"text": "Vi klagar."})
    assert appealed.status_code == 201 and appealed.json()["status"] == "appeal_pending"
    reconsidered = post(
        teacher,
        f"/applications/{pk}/appeal/reconsider",
        {
            "change": True,
            "note": "Ny vurdering.",
            "outcome": "partly_approved",
            "reasons": "Ein dag er forsvarleg.",
            "approved_start": MONDAY.isoformat(),
            "approved_end": MONDAY.isoformat(),
        },
    )
    assert reconsidered.status_code == 200
    data = reconsidered.json()
    assert data["status"] == "reconsidered" and data["appeal"]["outcome"] == "changed"
    assert [d["outcome"] for d in data["decisions"]] == ["declined", "partly_approved"]
    assert Appeal.objects.get().outcome == "changed"


def test_the_school_records_consent_through_the_api(world):
    other = second_guardian(world)
    application = apply(world)
    office = client_for(world.office)
    response = post(
        office,
        f"/applications/{application.pk}/recorded-consent",
        {"guardian_id": other.pk, "note": "Signert brev."},
    )
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert response.json()["consents"][0]["status"] == "recorded_by_school"


def test_staff_scoping_in_the_api(world):
    application = apply(world)
    for actor in (world.contact_teacher_b, world.other_leadership, world.guardian_b):
        client = client_for(actor)
        assert client.get(f"{BASE}/applications/{application.pk}").status_code == 404
        response = post(
            client,
            f"/applications/{application.pk}/decision",
            {"outcome": "approved", "reasons": "x"},
        )
        assert response.status_code == 404
    assert client_for(world.guardian_a).get(f"{BASE}/queue").status_code == 404
    assert (
        post(
            client_for(world.office),
            f"/applications/{application.pk}/decision",
            {"outcome": "approved", "reasons": "x"},
        ).status_code
        == 404
    )
    assert not Decision.objects.exists()


def test_the_schema_lists_the_leave_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/leave/applications",
        "/api/v1/leave/applications/{application_id}",
        "/api/v1/leave/applications/{application_id}/consent",
        "/api/v1/leave/applications/{application_id}/recorded-consent",
        "/api/v1/leave/applications/{application_id}/decision",
        "/api/v1/leave/applications/{application_id}/appeal",
        "/api/v1/leave/applications/{application_id}/appeal/reconsider",
        "/api/v1/leave/decisions/{decision_id}/letter",
        "/api/v1/leave/queue",
    ):
        assert path in paths, path
    assert "ApplicationOut" in schema["components"]["schemas"]


def test_withdraw_through_the_api(world):
    application = apply(world, dt.date(2027, 2, 1))
    response = post(client_for(world.guardian_a), f"/applications/{application.pk}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    decided = apply(world, dt.date(2027, 3, 1))
    decide(world, decided)
    response = post(client_for(world.guardian_a), f"/applications/{decided.pk}/withdraw")
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("guardian_a", "/applications"),
        ("leadership", "/queue"),
        ("contact_teacher_a", "/queue"),
    ],
)
def test_lists_hold_their_query_count(world, who, path):
    first = apply(world)
    declined = apply(world, dt.date(2027, 2, 1))
    decide(world, declined, Decision.Outcome.DECLINED)
    other = second_guardian(world)
    client = client_for(getattr(world, who))
    client.get(f"{BASE}{path}")  # the session's first request saves it once
    few = counted(client, f"{BASE}{path}")
    assert len(few.response.json()) == 2
    for n in range(4):
        apply(world, dt.date(2027, 3, 1) + dt.timedelta(days=7 * n), actor=other)
    appealed = apply(world, dt.date(2027, 4, 5))
    services.leave_consent_answer(actor=other, application_id=appealed.pk, agree=True)
    decide(world, appealed, Decision.Outcome.DECLINED)
    services.leave_appeal_create(actor=world.guardian_a, application_id=appealed.pk, text="x")
    many = counted(client, f"{BASE}{path}")
    listed = {a["id"]: a for a in many.response.json()}
    assert len(listed) == 7
    assert first.pk in listed and listed[appealed.pk]["appeal"] is not None
    assert_same_count(few, many)


@pytest.mark.parametrize("pupil_id", [0, -1, 999_999])
def test_an_unknown_pupil_in_the_list_is_404_as_in_the_absence_api(world, pupil_id):
    apply(world)
    client = client_for(world.guardian_a)
    response = client.get(f"{BASE}/applications", {"pupil_id": pupil_id})
    assert response.status_code == 404
    absence = client.get("/api/v1/absence/reports", {"pupil_id": pupil_id})
    assert absence.status_code == 404
    assert response.json() == absence.json()
