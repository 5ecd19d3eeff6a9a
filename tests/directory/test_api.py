"""The directory in the JSON API: the right actor gets the answer, anyone else 404."""

import pytest
from django.test import Client

from kontaktbok.core.models import AuditEntry
from kontaktbok.directory.services import directory_entry_update
from tests.directory.helpers import Role, add_staff, member_of

BASE = "/api/v1/directory"

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def entry_url(world, member) -> str:
    return f"{BASE}/schools/{world.school.pk}/staff/{member.pk}"


@pytest.fixture
def teacher(world):
    member = member_of(world.contact_teacher_a)
    directory_entry_update(
        actor=world.school_admin,
        member=member,
        data={"teams_address": "teacher.a@skule.test", "office_hours": "08.00–15.30"},
    )
    return member


def test_a_guardian_gets_the_contacts_of_their_child(world, teacher):
    response = client_for(world.guardian_a).get(f"{BASE}/children/{world.child_a.pk}/contacts")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["pupil_id"] == world.child_a.pk
    assert data["group"] == "4A"
    first = data["contacts"][0]
    assert first == {
        "member_id": teacher.pk,
        "name": "Teacher A",
        "roles": ["contact_teacher"],
        "role_label": "kontaktlærar",
        "title": "",
        "work_phone": "+47 400 00 000",
        "tel_link": "tel:+4740000000",
        "teams_address": "teacher.a@skule.test",
        "teams_link": "https://teams.microsoft.com/l/call/0/0?users=teacher.a%40skule.test",
        "office_hours": "08.00–15.30",
    }
    assert [c["roles"][0] for c in data["contacts"]] == ["contact_teacher", "office", "leadership"]


@pytest.mark.parametrize("who", ["guardian_b", "office", "leadership", "school_admin"])
def test_anyone_else_gets_404(world, who):
    response = client_for(getattr(world, who)).get(f"{BASE}/children/{world.child_a.pk}/contacts")
    assert response.status_code == 404
    assert "Teacher A" not in response.content.decode()


def test_staff_get_their_schools_directory(world, teacher):
    directory_entry_update(
        actor=world.school_admin, member=member_of(world.office), data={"listed": False}
    )
    url = f"{BASE}/schools/{world.school.pk}/staff"
    data = client_for(world.contact_teacher_b).get(url).json()
    assert "Office" not in [e["name"] for e in data]
    teacher_a = next(e for e in data if e["name"] == "Teacher A")
    assert teacher_a["groups"] == ["4A"] and teacher_a["listed"] is True
    admin_data = client_for(world.school_admin).get(url).json()
    office = next(e for e in admin_data if e["name"] == "Office")
    assert office["listed"] is False
    assert client_for(world.other_leadership).get(url).status_code == 404
    assert client_for(world.guardian_a).get(url).status_code == 404


def test_the_admin_patches_an_entry(world, teacher):
    response = patch(
        client_for(world.school_admin),
        entry_url(world, teacher),
        {"work_phone": "+47 57 11 22 33", "office_hours": "Måndag 08–12"},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["work_phone"] == "+47 57 11 22 33"
    assert data["tel_link"] == "tel:+4757112233"
    assert data["office_hours"] == "Måndag 08–12"
    assert data["teams_address"] == "teacher.a@skule.test"  # not sent, not changed
    teacher.refresh_from_db()
    assert teacher.work_phone == "+47 57 11 22 33"
    assert AuditEntry.objects.filter(action="directory.entry.updated").count() == 2


def test_a_head_of_stage_gets_grades_and_can_lose_them(world):
    head = add_staff(world, Role.HEAD_OF_STAGE, "Head")
    client = client_for(world.school_admin)
    data = patch(client, entry_url(world, head), {"grade_from": 8, "grade_to": 10}).json()
    assert (data["grade_from"], data["grade_to"]) == (8, 10)
    data = patch(client, entry_url(world, head), {"grade_from": None, "grade_to": None}).json()
    assert (data["grade_from"], data["grade_to"]) == (None, None)


def test_a_bad_number_answers_422_by_field(world, teacher):
    response = patch(
        client_for(world.school_admin), entry_url(world, teacher), {"work_phone": "privat"}
    )
    assert response.status_code == 422
    data = response.json()
    assert list(data["errors"]) == ["work_phone"]
    assert data["detail"][0]["loc"] == ["body", "work_phone"]
    teacher.refresh_from_db()
    assert teacher.work_phone == "+47 400 00 000"


@pytest.mark.parametrize("who", ["office", "leadership", "contact_teacher_a", "guardian_a"])
def test_nobody_else_may_patch(world, teacher, who):
    response = patch(
        client_for(getattr(world, who)), entry_url(world, teacher), {"work_phone": "+4799999999"}
    )
    assert response.status_code == 404
    teacher.refresh_from_db()
    assert teacher.work_phone == "+47 400 00 000"


def test_the_directory_is_in_the_openapi_schema(world):
    schema = client_for(world.guardian_a).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/directory/children/{pupil_id}/contacts" in paths
    assert "/api/v1/directory/schools/{school_id}/staff" in paths
    assert "patch" in paths["/api/v1/directory/schools/{school_id}/staff/{member_id}"]
    patch_schema = schema["components"]["schemas"]["DirectoryEntryPatch"]["properties"]
    assert "private" in patch_schema["work_phone"]["description"]
