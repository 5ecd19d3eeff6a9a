"""Replayed Idempotency-Keys: a retry repeats the first answer and stores nothing twice;
someone else's key never returns someone else's message."""

from django.test import Client
from django.urls import reverse

from kontaktbok.messaging.models import Message, Thread
from tests.factories import World

KEY = "retry-7f3a"


def _start_thread(client: Client, pupil_id: int, key: str, subject: str = "Tur") -> object:
    return client.post(
        reverse("api-1:message_thread_create"),
        data={
            "pupil_id": pupil_id,
            "subject": subject,
            "body": "Hei",
            "roles": ["contact_teacher"],
        },
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_a_retried_thread_is_the_first_thread(world: World):
    client = Client()
    client.force_login(world.guardian_a)
    first = _start_thread(client, world.child_a.pk, KEY)
    again = _start_thread(client, world.child_a.pk, KEY)
    assert first.status_code == 201
    assert again.status_code in (200, 201)
    assert again.json()["id"] == first.json()["id"]
    assert Thread.objects.filter(created_by=world.guardian_a).count() == 1
    assert Message.objects.filter(author=world.guardian_a).count() == 1


def test_another_users_key_never_returns_their_thread(world: World):
    mine = Client()
    mine.force_login(world.guardian_a)
    first = _start_thread(mine, world.child_a.pk, KEY, subject="Privat")
    theirs = Client()
    theirs.force_login(world.guardian_b)
    replay = _start_thread(theirs, world.child_b.pk, KEY, subject="Anna")
    assert replay.status_code == 201
    assert replay.json()["id"] != first.json()["id"]
    assert "Privat" not in replay.content.decode()
    # Replaying the key for someone else's child is refused like any request about them.
    stolen = _start_thread(theirs, world.child_a.pk, KEY)
    assert stolen.status_code == 404
    assert "Privat" not in stolen.content.decode()


def test_a_retried_reply_is_stored_once(world: World):
    client = Client()
    client.force_login(world.guardian_a)
    thread_id = _start_thread(client, world.child_a.pk, "thread-1").json()["id"]
    url = reverse("api-1:message_reply_create", kwargs={"thread_id": thread_id})
    first = client.post(url, {"body": "Takk"}, headers={"Idempotency-Key": KEY})
    again = client.post(url, {"body": "Takk"}, headers={"Idempotency-Key": KEY})
    assert first.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.filter(thread_id=thread_id).count() == 2  # the first and the reply
