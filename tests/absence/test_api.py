"""The absence JSON API: the right actor gets the answer, anyone else 404."""

import datetime as dt

import pytest
from django.test import Client

from kontaktbok.absence import services
from kontaktbok.absence.models import AbsenceReport, AttendanceMark, DailyCheck
from kontaktbok.schools import services as school_services
from tests import factories

TODAY = dt.date(2026, 11, 24)
BASE = "/api/v1/absence"

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(world, **changes):
    data = {
        "pupil_id": world.child_a.pk,
        "start_date": "2026-11-24",
        "end_date": "2026-11-24",
        "absence_type": "sick",
        "comment": "Feber",
    }
    data.update(changes)
    return data


def post_report(client, data, **headers):
    return client.post(f"{BASE}/reports", data, content_type="application/json", headers=headers)


def make_report(world, day=TODAY, **extra):
    return services.absence_report_create(
        actor=world.guardian_a,
        pupil_id=world.child_a.pk,
        start_date=day,
        end_date=day,
        absence_type=world.school.absence_types.get(code="sick"),
        **extra,
    )


# --- reports ----------------------------------------------------------------------------


def test_a_guardian_reports_absence(world):
    response = post_report(client_for(world.guardian_a), body(world))
    assert response.status_code == 201, response.content
    data = response.json()
    report = AbsenceReport.objects.get()
    assert data["id"] == report.pk
    assert data["absence_type"] == "sick"
    assert data["absence_type_name"] == "Sjuk"
    assert data["reported_by"] == "Guardian A"
    assert data["late"] is False
    assert data["status"] == "active"


def test_the_same_idempotency_key_twice_gives_one_report(world):
    client = client_for(world.guardian_a)
    first = post_report(client, body(world), **{"Idempotency-Key": "abc-123"})
    second = post_report(client, body(world), **{"Idempotency-Key": "abc-123"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert AbsenceReport.objects.count() == 1
    next_day = body(world, start_date="2026-11-25", end_date="2026-11-25")
    third = post_report(client, next_day, **{"Idempotency-Key": "abc-124"})
    assert third.json()["id"] != first.json()["id"]


def test_an_overlong_idempotency_key_is_refused(world):
    response = post_report(
        client_for(world.guardian_a), body(world), **{"Idempotency-Key": "x" * 101}
    )
    assert response.status_code == 422
    assert not AbsenceReport.objects.exists()


@pytest.mark.parametrize("actor", ["guardian_b", "contact_teacher_a", "office", "other_leadership"])
def test_not_ones_own_child_is_404(world, actor):
    response = post_report(client_for(getattr(world, actor)), body(world))
    assert response.status_code == 404
    assert not AbsenceReport.objects.exists()


def test_without_a_session_401(world):
    assert post_report(Client(), body(world)).status_code == 401


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": "2026-11-23"}, "end_date"),
        ({"start_date": "2026-11-20", "end_date": "2026-11-20"}, "start_date"),
        ({"end_date": "2027-01-29"}, "end_date"),
        ({"absence_type": "holiday"}, "absence_type"),
        ({"whole_day": False}, "start_time"),
        ({"start_date": "2026-11-28", "end_date": "2026-11-29"}, "start_date"),
    ],
)
def test_bad_input_is_422_with_messages_per_field(world, changes, field):
    response = post_report(client_for(world.guardian_a), body(world, **changes))
    assert response.status_code == 422, response.content
    data = response.json()
    assert field in data["errors"]
    assert all(data["errors"][field])
    assert any(item["loc"][-1] == field and item["msg"] for item in data["detail"])
    assert not AbsenceReport.objects.exists()


def test_messages_are_in_the_users_language(world):
    client = client_for(world.guardian_a)
    client.cookies["kontaktbok_language"] = "en"
    response = post_report(client, body(world, end_date="2026-11-23"))
    assert response.json()["errors"]["end_date"] == ["The last day cannot be before the first day."]


def test_a_malformed_body_is_422(world):
    response = post_report(client_for(world.guardian_a), body(world, start_date="not a date"))
    assert response.status_code == 422
    assert any(item["loc"][-1] == "start_date" for item in response.json()["detail"])


def test_both_guardians_see_every_report_and_who_made_it(world):
    school_services.guardianship_set(actor=None, guardian=world.guardian_b, pupil=world.child_a)
    report = make_report(world)
    response = client_for(world.guardian_b).get(f"{BASE}/reports", {"pupil_id": world.child_a.pk})
    assert response.status_code == 200
    assert [(r["id"], r["reported_by"]) for r in response.json()] == [(report.pk, "Guardian A")]
    everything = client_for(world.guardian_b).get(f"{BASE}/reports").json()
    assert [r["id"] for r in everything] == [report.pk]


def test_the_list_is_the_callers_children_only(world):
    make_report(world)
    assert client_for(world.guardian_b).get(f"{BASE}/reports").json() == []
    response = client_for(world.guardian_b).get(f"{BASE}/reports", {"pupil_id": world.child_a.pk})
    assert response.status_code == 404
    response = client_for(world.office).get(f"{BASE}/reports", {"pupil_id": world.child_a.pk})
    assert response.status_code == 404


def test_a_report_is_changed_field_by_field(world):
    report = make_report(world)
    response = client_for(world.guardian_a).patch(
        f"{BASE}/reports/{report.pk}",
        {"end_date": "2026-11-25", "absence_type": "doctor"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["start_date"], data["end_date"], data["absence_type"]) == (
        "2026-11-24",
        "2026-11-25",
        "doctor",
    )
    assert data["comment"] == ""


def test_a_change_to_part_of_a_day_needs_times(world):
    report = make_report(world)
    client = client_for(world.guardian_a)
    url = f"{BASE}/reports/{report.pk}"
    response = client.patch(url, {"whole_day": False}, content_type="application/json")
    assert response.status_code == 422
    assert "start_time" in response.json()["errors"]
    response = client.patch(
        url,
        {"whole_day": False, "start_time": "10:00", "end_time": "11:30"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["start_time"], response.json()["end_time"]) == ("10:00:00", "11:30:00")


@pytest.mark.parametrize("actor", ["guardian_b", "contact_teacher_a", "leadership"])
def test_another_family_cannot_change_or_withdraw(world, actor):
    report = make_report(world)
    client = client_for(getattr(world, actor))
    patched = client.patch(
        f"{BASE}/reports/{report.pk}", {"comment": "x"}, content_type="application/json"
    )
    withdrawn = client.post(f"{BASE}/reports/{report.pk}/withdraw")
    assert (patched.status_code, withdrawn.status_code) == (404, 404)
    report.refresh_from_db()
    assert report.status == AbsenceReport.Status.ACTIVE


def test_withdraw_and_the_check_closes_the_report(world):
    report = make_report(world, TODAY - dt.timedelta(days=1))
    other = make_report(world, comment="second")
    client = client_for(world.guardian_a)
    response = client.post(f"{BASE}/reports/{report.pk}/withdraw")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    response = client.post(f"{BASE}/reports/{other.pk}/withdraw")
    assert response.status_code == 422
    assert "__all__" in response.json()["errors"]
    response = client.patch(
        f"{BASE}/reports/{other.pk}", {"comment": "x"}, content_type="application/json"
    )
    assert response.status_code == 422


# --- staff ------------------------------------------------------------------------------


def sheet_url(world, group=None):
    return f"{BASE}/groups/{(group or world.class_a).pk}/sheet"


def test_the_contact_teacher_gets_the_day_sheet_with_details(world):
    make_report(world, comment="Feber")
    response = client_for(world.contact_teacher_a).get(sheet_url(world), {"date": "2026-11-24"})
    assert response.status_code == 200
    data = response.json()
    assert data["group_id"] == world.class_a.pk
    row = next(r for r in data["rows"] if r["pupil_id"] == world.child_a.pk)
    assert (row["report"]["absence_type"], row["report"]["comment"]) == ("sick", "Feber")
    assert row["show_details"] is True
    assert data["counts"]["reported"] == 1


def test_a_plain_teacher_sees_only_that_the_absence_is_reported(world):
    make_report(world, comment="Feber")
    teacher = factories.staff_member(world.school)
    school_services.staff_role_grant(
        actor=None, member=teacher, role="teacher", group=world.class_a
    )
    response = client_for(teacher.user).get(sheet_url(world))
    assert response.status_code == 200
    row = next(r for r in response.json()["rows"] if r["pupil_id"] == world.child_a.pk)
    assert row["show_details"] is False
    assert row["report"]["id"]
    assert (row["report"]["absence_type"], row["report"]["comment"]) == (None, None)
    assert b"Feber" not in response.content


@pytest.mark.parametrize("actor", ["contact_teacher_b", "other_leadership", "guardian_a"])
def test_the_day_sheet_of_another_group_is_404(world, actor):
    assert client_for(getattr(world, actor)).get(sheet_url(world)).status_code == 404


def attendance(world, marks, day="2026-11-24", lesson=None):
    return {"date": day, "lesson": lesson, "marks": marks}


def test_registering_attendance(world):
    client = client_for(world.contact_teacher_a)
    payload = attendance(
        world,
        [
            {"pupil_id": world.child_a.pk, "status": "absent"},
            {"pupil_id": world.child_b.pk, "status": "late", "late_minutes": 7},
        ],
    )
    url = f"{BASE}/groups/{world.class_a.pk}/attendance"
    response = client.put(url, payload, content_type="application/json")
    assert response.status_code == 200, response.content
    saved = {m["pupil_id"]: m for m in response.json()["marks"]}
    assert saved[world.child_a.pk]["status"] == "absent"
    assert saved[world.child_b.pk]["late_minutes"] == 7
    sheet = client.get(f"{BASE}/groups/{world.class_a.pk}/sheet", {"date": "2026-11-24"})
    rows = {r["pupil_id"]: r for r in sheet.json()["rows"]}
    assert rows[world.child_a.pk]["status"] == "absent"
    assert rows[world.child_a.pk]["explanation"] == "unexplained"
    assert rows[world.child_b.pk]["late_minutes"] == 7
    payload["marks"][0]["status"] = "present"
    client.put(url, payload, content_type="application/json")
    assert AttendanceMark.objects.get(pupil=world.child_a).status == "present"


@pytest.mark.parametrize(
    ("mark", "day", "status"),
    [
        ({"status": "late"}, "2026-11-24", 422),
        ({"status": "absent"}, "2026-11-25", 422),
        ({"status": "gone"}, "2026-11-24", 422),
    ],
)
def test_bad_attendance_is_422(world, mark, day, status):
    response = client_for(world.contact_teacher_a).put(
        f"{BASE}/groups/{world.class_a.pk}/attendance",
        attendance(world, [{"pupil_id": world.child_a.pk, **mark}], day=day),
        content_type="application/json",
    )
    assert response.status_code == status
    assert response.json()["errors"]["__all__"]
    assert not AttendanceMark.objects.exists()


def test_a_pupil_of_another_group_or_a_foreign_group_is_404(world):
    url = f"{BASE}/groups/{world.class_a.pk}/attendance"
    stranger = attendance(world, [{"pupil_id": world.child_a2.pk, "status": "absent"}])
    response = client_for(world.contact_teacher_a).put(
        url, stranger, content_type="application/json"
    )
    assert response.status_code == 404
    mine = attendance(world, [{"pupil_id": world.child_a.pk, "status": "absent"}])
    for actor in (world.contact_teacher_b, world.other_leadership, world.guardian_a):
        response = client_for(actor).put(url, mine, content_type="application/json")
        assert response.status_code == 404
    assert not AttendanceMark.objects.exists()


def test_the_daily_check_is_idempotent(world):
    client = client_for(world.contact_teacher_a)
    url = f"{BASE}/groups/{world.class_a.pk}/check"
    first = client.post(url)
    second = client_for(world.office).post(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert first.json()["checked_by"] == "Teacher A"
    assert first.json()["date"] == "2026-11-24"
    assert DailyCheck.objects.count() == 1


@pytest.mark.parametrize("actor", ["contact_teacher_b", "other_leadership", "guardian_a"])
def test_the_daily_check_of_another_group_is_404(world, actor):
    response = client_for(getattr(world, actor)).post(f"{BASE}/groups/{world.class_a.pk}/check")
    assert response.status_code == 404
    assert not DailyCheck.objects.exists()


def test_the_openapi_schema_lists_the_absence_paths(world):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/absence/reports": {"get", "post"},
        "/api/v1/absence/reports/{report_id}": {"patch"},
        "/api/v1/absence/reports/{report_id}/withdraw": {"post"},
        "/api/v1/absence/groups/{group_id}/sheet": {"get"},
        "/api/v1/absence/groups/{group_id}/attendance": {"put"},
        "/api/v1/absence/groups/{group_id}/check": {"post"},
    }.items() <= {path: set(ops) for path, ops in paths.items()}.items()
    post = paths["/api/v1/absence/reports"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert {"201", "404", "422"} <= set(post["responses"])
