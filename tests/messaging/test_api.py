"""The messaging part of the JSON API: scoping (404 for others' threads), bad input (422),
read status, attachments, messages to groups, and the OpenAPI schema."""

import pytest
from django.test import Client

from kontaktbok.messaging.models import Thread
from kontaktbok.schools.models import StaffRole
from tests.messaging.helpers import PDF, guardian_thread, pdf

Role = StaffRole.Role
pytestmark = pytest.mark.django_db
API = "/api/v1/messages"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_guardian_writes_teacher_replies_guardian_sees_read(world):
    guardian = client_for(world.guardian_a)
    response = guardian.post(
        f"{API}/threads",
        {"pupil_id": world.child_a.pk, "subject": "Gymtøy", "body": "Hei", "roles": []},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "recipients" in response.json()["errors"]
    response = guardian.post(
        f"{API}/threads",
        {
            "pupil_id": world.child_a.pk,
            "subject": "Gymtøy",
            "body": "Hei",
            "roles": ["contact_teacher"],
        },
        content_type="application/json",
        headers={"Idempotency-Key": "api-1"},
    )
    assert response.status_code == 201
    thread = response.json()
    assert {p["user_id"] for p in thread["participants"]} == {
        world.guardian_a.pk,
        world.contact_teacher_a.pk,
    }
    assert thread["messages"][0]["read_by"] == [
        {"user_id": world.contact_teacher_a.pk, "name": "Teacher A", "read": False}
    ]
    teacher = client_for(world.contact_teacher_a)
    listing = teacher.get(f"{API}/threads").json()
    assert listing["count"] == 1 and listing["threads"][0]["unread"] == 1
    assert teacher.post(f"{API}/threads/{thread['id']}/read").status_code == 204
    reply = teacher.post(
        f"{API}/threads/{thread['id']}/messages", {"body": "Takk", "files": [pdf()]}
    )
    assert reply.status_code == 201, reply.content
    assert reply.json()["attachments"][0]["content_type"] == "application/pdf"
    seen = guardian.get(f"{API}/threads/{thread['id']}").json()
    assert seen["messages"][0]["read_by"][0]["read"] is True
    download = guardian.get(reply.json()["attachments"][0]["url"])
    assert download.status_code == 200 and download.content == PDF


def test_another_familys_thread_is_404(world):
    thread = guardian_thread(world, files=[pdf()])
    attachment = thread.messages.get().attachments.get()
    for outsider in (world.guardian_b, world.contact_teacher_b, world.office, world.leadership):
        client = client_for(outsider)
        assert client.get(f"{API}/threads/{thread.pk}").status_code == 404
        assert client.post(f"{API}/threads/{thread.pk}/messages", {"body": "x"}).status_code == 404
        assert client.post(f"{API}/threads/{thread.pk}/read").status_code == 404
        assert client.get(f"{API}/attachments/{attachment.pk}").status_code == 404
        assert client.get(f"{API}/threads").json()["count"] == 0
    response = client_for(world.guardian_b).post(
        f"{API}/threads",
        {"pupil_id": world.child_a.pk, "subject": "S", "body": "B", "roles": ["contact_teacher"]},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_empty_reply_and_forbidden_file_are_422(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    thread = guardian_thread(world)
    client = client_for(world.guardian_a)
    response = client.post(f"{API}/threads/{thread.pk}/messages", {"body": " "})
    assert response.status_code == 422 and "body" in response.json()["errors"]
    response = client.post(
        f"{API}/threads/{thread.pk}/messages",
        {"body": "Sjå vedlegg", "files": [SimpleUploadedFile("x.html", b"<html>")]},
    )
    assert response.status_code == 422 and "attachments" in response.json()["errors"]


def test_group_message_to_another_staff_members_group_is_not_found(world):
    # 9B is contact_teacher_b's class, not contact_teacher_a's: as if it did not exist.
    client = client_for(world.contact_teacher_a)
    payload = {"group_ids": [world.class_b.pk], "subject": "Tur", "body": "Hei"}
    response = client.post(
        f"{API}/broadcasts", {**payload, "confirmed_count": 2}, content_type="application/json"
    )
    assert response.status_code == 404
    mixed = {**payload, "group_ids": [world.class_a.pk, world.class_b.pk], "confirmed_count": 4}
    assert (
        client.post(f"{API}/broadcasts", mixed, content_type="application/json").status_code == 404
    )
    assert not Thread.objects.exists()


def test_group_message_preview_and_confirmation(world):
    client = client_for(world.contact_teacher_a)
    preview = client.get(f"{API}/broadcasts/preview", {"group_ids": [world.class_a.pk]}).json()
    assert preview["count"] == 2
    assert set(preview["pupils"]) == {world.child_a.full_name, world.child_b.full_name}
    payload = {"group_ids": [world.class_a.pk], "subject": "Tur", "body": "Hei"}
    refused = client.post(f"{API}/broadcasts", payload, content_type="application/json")
    assert refused.status_code == 422 and "confirmed_count" in refused.json()["errors"]
    sensitive = client.post(
        f"{API}/broadcasts",
        {**payload, "sensitive": True, "confirmed_count": 2},
        content_type="application/json",
    )
    assert sensitive.status_code == 422 and "sensitive" in sensitive.json()["errors"]
    sent = client.post(
        f"{API}/broadcasts", {**payload, "confirmed_count": 2}, content_type="application/json"
    )
    assert sent.status_code == 201 and len(sent.json()["families"]) == 2
    assert Thread.objects.count() == 2
    detail = client.get(f"{API}/broadcasts/{sent.json()['id']}")
    assert detail.status_code == 200
    assert (
        client_for(world.contact_teacher_b).get(f"{API}/broadcasts/{sent.json()['id']}").status_code
        == 404
    )
    # guardian_b sees only their own family's thread.
    threads = client_for(world.guardian_b).get(f"{API}/threads").json()["threads"]
    assert [t["pupil_id"] for t in threads] == [world.child_b.pk]


def test_recipients_and_participants(world):
    guardian = client_for(world.guardian_a)
    choices = guardian.get(f"{API}/pupils/{world.child_a.pk}/recipients").json()
    assert choices["as_guardian"] and choices["choices"][0]["role"] == "contact_teacher"
    staff = (
        client_for(world.contact_teacher_b)
        .get(f"{API}/pupils/{world.protected_child.pk}/recipients")
        .json()
    )
    assert staff["guardians"] == ["Guardian B"]  # never the restricted guardian
    thread = guardian_thread(world)
    added = client_for(world.contact_teacher_a).post(
        f"{API}/threads/{thread.pk}/participants",
        {"user_id": world.office.pk},
        content_type="application/json",
    )
    assert added.status_code == 201 and added.json()["role"] == "office"
    archived = guardian.post(
        f"{API}/threads/{thread.pk}/archive", {"archived": True}, content_type="application/json"
    )
    assert archived.status_code == 204
    assert guardian.get(f"{API}/threads", {"archived": True}).json()["count"] == 1


def test_openapi_lists_messaging(world):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/messages/threads",
        "/api/v1/messages/threads/{thread_id}",
        "/api/v1/messages/threads/{thread_id}/messages",
        "/api/v1/messages/threads/{thread_id}/read",
        "/api/v1/messages/attachments/{attachment_id}",
        "/api/v1/messages/broadcasts",
    ):
        assert path in paths


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def _small_limit(world) -> None:
    from kontaktbok.messaging import services

    services.messaging_settings_save(
        actor=world.school_admin, school_id=world.school.pk, guardian_roles=[], max_attachment_mb=1
    )


def test_reply_file_over_the_limit_is_413_as_it_arrives(world):
    _small_limit(world)
    thread = guardian_thread(world)
    big = pdf(data=PDF + b"0" * (1024 * 1024 + 10))
    response = client_for(world.guardian_a).post(
        f"{API}/threads/{thread.pk}/messages", {"body": "Sjå vedlegg", "files": [big]}
    )
    assert response.status_code == 413
    body = response.json()
    assert body["detail"][0]["type"] == "too_large"
    (message,) = body["errors"]["files"]
    assert "1 MB" in message  # the school's limit, in the caller's language
    assert thread.messages.count() == 1  # nothing sent without the file


def test_reply_body_declared_over_the_limit_is_413_unread(world):
    _small_limit(world)
    thread = guardian_thread(world)
    response = client_for(world.guardian_a).post(
        f"{API}/threads/{thread.pk}/messages",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    assert "files" in response.json()["errors"]
    assert thread.messages.count() == 1


def test_reply_upload_without_login_is_401_unread(world):
    thread = guardian_thread(world)
    response = Client().post(
        f"{API}/threads/{thread.pk}/messages",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH="1000",
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 401
    assert response.json()["detail"][0]["type"] == "not_authenticated"


def test_reply_to_a_thread_that_is_no_id_is_refused(world):
    client = client_for(world.guardian_a)
    url = f"{API}/threads/abc/messages"
    unread = {"CONTENT_LENGTH": str(500 * 1024 * 1024), "wsgi.input": UnreadableBody()}
    multipart = "multipart/form-data; boundary=x"
    assert client.post(url, b"", content_type=multipart, **unread).status_code == 413
    response = client.post(url, {"body": "Hei", "files": [pdf()]})
    assert response.status_code == 422
