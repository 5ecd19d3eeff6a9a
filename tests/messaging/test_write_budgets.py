"""Speed budget for messages (issue 8): every write runs at most 15 database queries, and a
message to groups, the inbox and a thread cost the same however many families there are.
Tasks go to the database queue as in production, so a write pays for handing its
notifications over (one INSERT) and no more."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontaktbok.messaging.models import Attachment, Broadcast, Message, Participant, Thread
from kontaktbok.notifications.models import Notification
from kontaktbok.schools.models import StaffRole
from tests import test_access_matrix
from tests.factories import World
from tests.messaging.helpers import guardian_thread, pdf
from tests.test_query_budgets import BUDGET, _grow, _over, _queue_tasks, _seen

clients = test_access_matrix.clients  # the matrix's signed-in clients, as a fixture here

Role = StaffRole.Role
API = "/api/v1/messages"


@pytest.fixture(autouse=True)
def _tasks_queued(settings: Any) -> None:
    _queue_tasks(settings)


def _queued(task: str) -> list[dict[str, Any]]:
    from django_tasks_db.models import DBTaskResult

    path = f"kontaktbok.messaging.tasks.{task}"
    return [r.args_kwargs["kwargs"] for r in DBTaskResult.objects.filter(task_path=path)]


def _count(client: Client, method: str, url: str, **kwargs: Any) -> tuple[Any, int]:
    """The response and its number of queries, which must be within the budget."""
    _seen(client)
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **kwargs)
    count = len(queries)
    assert count <= BUDGET, _over(count, [q["sql"] for q in queries.captured_queries])
    return response, count


def _thread_about_aksel(world: World) -> Thread:
    """guardian_a writes about Aksel (9B) to his contact teacher (contact_teacher_b)."""
    return guardian_thread(world, pupil=world.child_a2)


# --- a guardian writes to the school ------------------------------------------------------


@pytest.mark.parametrize("files", [0, 2])
def test_guardian_starts_a_thread(world: World, clients: dict[str, Client], files: int) -> None:
    url = reverse("messaging_compose", kwargs={"pupil_id": world.child_a.pk})
    data: dict[str, Any] = {
        "recipients": [Role.CONTACT_TEACHER, Role.OFFICE],
        "subject": "Gymtøy",
        "body": "Hei",
        "idempotency_key": "budget",
    }
    if files:
        data["attachments"] = [pdf(f"brev{n}.pdf") for n in range(files)]
    response, _n = _count(clients["guardian_a"], "post", url, data=data)
    assert response.status_code == 302
    message = Message.objects.get(author=world.guardian_a, idempotency_key="budget")
    assert set(message.thread.participants.values_list("user_id", flat=True)) == {
        world.guardian_a.pk,
        world.contact_teacher_a.pk,
        world.office.pk,
    }
    assert Attachment.objects.filter(message=message).count() == files
    assert _queued("tell_others") == [{"message_id": message.pk}]


def test_a_double_tap_sends_once(world: World, clients: dict[str, Client]) -> None:
    url = reverse("messaging_compose", kwargs={"pupil_id": world.child_a.pk})
    data = {
        "recipients": Role.CONTACT_TEACHER,
        "subject": "Gymtøy",
        "body": "Hei",
        "idempotency_key": "budget",
    }
    first = clients["guardian_a"].post(url, data)
    again, _n = _count(clients["guardian_a"], "post", url, data=data)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Thread.objects.count() == 1 and len(_queued("tell_others")) == 1


# --- the school writes to a family, or replies --------------------------------------------


@pytest.mark.parametrize("files", [0, 2])
def test_staff_write_to_a_family(world: World, clients: dict[str, Client], files: int) -> None:
    url = reverse("messaging_compose_family", kwargs={"pupil_id": world.child_a2.pk})
    data: dict[str, Any] = {"subject": "Tur", "body": "Hei", "idempotency_key": "budget"}
    if files:
        data["attachments"] = [pdf(f"brev{n}.pdf") for n in range(files)]
    response, _n = _count(clients["contact_teacher_b"], "post", url, data=data)
    assert response.status_code == 302
    thread = Thread.objects.get(created_by=world.contact_teacher_b)
    assert thread.participants.get(user=world.contact_teacher_b).role == Role.CONTACT_TEACHER
    assert Attachment.objects.filter(message__thread=thread).count() == files


@pytest.mark.parametrize("files", [0, 2])
def test_staff_reply(world: World, clients: dict[str, Client], files: int) -> None:
    thread = _thread_about_aksel(world)
    url = reverse("messaging_thread", kwargs={"thread_id": thread.pk})
    data: dict[str, Any] = {"body": "Takk", "idempotency_key": "budget"}
    if files:
        data["attachments"] = [pdf(f"brev{n}.pdf") for n in range(files)]
    response, _n = _count(clients["contact_teacher_b"], "post", url, data=data)
    assert response.status_code == 302
    reply = Message.objects.get(author=world.contact_teacher_b)
    assert reply.attachments.count() == files
    assert {"message_id": reply.pk} in _queued("tell_others")


def test_staff_add_a_colleague(world: World, clients: dict[str, Client]) -> None:
    thread = _thread_about_aksel(world)
    member = world.office.staff_memberships.get()
    url = reverse("messaging_participant_add", kwargs={"thread_id": thread.pk})
    response, _n = _count(clients["contact_teacher_b"], "post", url, data={"member": member.pk})
    assert response.status_code == 302
    added = Participant.objects.get(thread=thread, user=world.office)
    assert _queued("tell_added") == [{"participant_id": added.pk}]


# --- messages to groups, the inbox and a thread, as the school grows ----------------------


def _broadcast(world: World, clients: dict[str, Client], key: str) -> int:
    families = world.class_b.pupils.count()  # every pupil of 9B has a guardian to inform
    data = {
        "groups": str(world.class_b.pk),
        "subject": "Tur",
        "body": "Hei",
        "confirm_step": "1",
        "confirmed_count": str(families),
        "idempotency_key": key,
    }
    url = reverse("messaging_broadcast")
    response, count = _count(clients["contact_teacher_b"], "post", url, data=data)
    assert response.status_code == 302
    broadcast = Broadcast.objects.get(idempotency_key=key)
    assert broadcast.family_count == families == broadcast.threads.count()
    assert {"broadcast_id": broadcast.pk} in _queued("tell_families")
    return count


def _pages(world: World, clients: dict[str, Client]) -> dict[str, int]:
    """The inbox and a thread of the group message, for the sender and a guardian."""
    thread = Thread.objects.filter(pupil=world.child_a2, broadcast__isnull=False).latest("pk")
    counts = {}
    for actor in ("contact_teacher_b", "guardian_a"):
        for name, kwargs in (
            ("messaging_inbox", {}),
            ("messaging_thread", {"thread_id": thread.pk}),
        ):
            response, counts[f"{name} ({actor})"] = _count(
                clients[actor], "get", reverse(name, kwargs=kwargs)
            )
            assert response.status_code == 200
    return counts


def test_a_message_to_a_group_costs_the_same_for_more_families(
    world: World, clients: dict[str, Client]
) -> None:
    before = {"broadcast": _broadcast(world, clients, "small"), **_pages(world, clients)}
    _grow(world)
    after = {"broadcast": _broadcast(world, clients, "large"), **_pages(world, clients)}
    assert after == before


# --- the JSON API -------------------------------------------------------------------------


def test_api_writes(world: World, clients: dict[str, Client]) -> None:
    guardian, teacher = clients["guardian_a"], clients["contact_teacher_b"]
    created, _n = _count(
        guardian,
        "post",
        f"{API}/threads",
        data={
            "pupil_id": world.child_a2.pk,
            "subject": "S",
            "body": "B",
            "roles": ["contact_teacher"],
        },
        content_type="application/json",
        headers={"Idempotency-Key": "api"},
    )
    assert created.status_code == 201
    thread_id = created.json()["id"]
    read, _n = _count(teacher, "post", f"{API}/threads/{thread_id}/read")
    assert read.status_code == 204
    reply, _n = _count(
        teacher,
        "post",
        f"{API}/threads/{thread_id}/messages",
        data={"body": "Takk", "files": [pdf("a.pdf"), pdf("b.pdf")]},
    )
    assert reply.status_code == 201 and len(reply.json()["attachments"]) == 2
    added, _n = _count(
        teacher,
        "post",
        f"{API}/threads/{thread_id}/participants",
        data={"user_id": world.office.pk},
        content_type="application/json",
    )
    assert added.status_code == 201
    family, _n = _count(
        teacher,
        "post",
        f"{API}/threads",
        data={"pupil_id": world.child_a2.pk, "subject": "S", "body": "B"},
        content_type="application/json",
    )
    assert family.status_code == 201
    assert {p["user_id"] for p in family.json()["participants"]} == {
        world.contact_teacher_b.pk,
        world.guardian_a.pk,
    }


def _api_broadcast(world: World, clients: dict[str, Client], key: str) -> int:
    families = world.class_b.pupils.count()
    response, count = _count(
        clients["contact_teacher_b"],
        "post",
        f"{API}/broadcasts",
        data={
            "group_ids": [world.class_b.pk],
            "subject": "Tur",
            "body": "Hei",
            "confirmed_count": families,
        },
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201 and len(response.json()["families"]) == families
    return count


def test_api_message_to_a_group_costs_the_same_for_more_families(
    world: World, clients: dict[str, Client]
) -> None:
    before = _api_broadcast(world, clients, "small")
    _grow(world)
    assert _api_broadcast(world, clients, "large") == before


# --- what the worker does with the hand-over ----------------------------------------------


def test_the_worker_tells_each_family_once(world: World) -> None:
    from kontaktbok.messaging import services, tasks

    broadcast = services.broadcast_send(
        actor=world.contact_teacher_b,
        group_ids=[world.class_b.pk],
        subject="Tur",
        body="Hei",
        confirmed_count=2,
    )
    [queued] = _queued("tell_families")
    aksel = broadcast.threads.get(pupil=world.child_a2)
    services.message_reply(actor=world.guardian_a, thread_id=aksel.pk, body="Takk")
    assert tasks.tell_families.call(**queued) == 2
    assert tasks.tell_families.call(**queued) == 2  # a retried task writes nothing new
    told = Notification.objects.filter(kind="messaging.message").order_by("recipient_id")
    assert [(n.recipient, n.payload) for n in told] == [
        (world.guardian_a, {"child": "Aksel", "sender": "Teacher B"}),
        (world.guardian_b, {"child": "Vern", "sender": "Teacher B"}),
    ]
    first = aksel.messages.earliest("created_at")
    assert told[0].dedup_key == f"messaging.message:{first.pk}"
    assert told[0].url == reverse("messaging_thread", kwargs={"thread_id": aksel.pk})


def test_a_colleague_added_later_is_told_of_the_adding_only(world: World) -> None:
    from kontaktbok.messaging import services, tasks

    thread = _thread_about_aksel(world)
    services.participant_add(
        actor=world.contact_teacher_b, thread_id=thread.pk, user_id=world.office.pk
    )
    [message] = _queued("tell_others")
    [added] = _queued("tell_added")
    tasks.tell_others.call(**message)
    tasks.tell_added.call(**added)
    told = {(n.recipient, n.kind) for n in Notification.objects.all()}
    assert told == {
        (world.contact_teacher_b, "messaging.message"),
        (world.office, "messaging.added"),
    }
    note = Notification.objects.get(kind="messaging.added")
    assert note.dedup_key == f"messaging.added:{thread.pk}:{world.office.pk}"
    assert note.payload == {"child": "Aksel", "sender": "Teacher B"}
