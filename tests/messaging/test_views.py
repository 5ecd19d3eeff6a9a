"""Message pages: writing, replying, read status, the group message's confirmation step,
bad input with the draft kept, and other families' threads answering 404."""

import pytest
from django.test import Client
from django.urls import reverse

from kontaktbok.messaging import services
from kontaktbok.messaging.models import Broadcast, Message, Participant, Thread
from kontaktbok.schools.models import StaffRole
from tests.html_forms import post_forms
from tests.messaging.helpers import PDF, guardian_thread, pdf

Role = StaffRole.Role
pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_guardian_writes_and_sees_working_hours_and_the_absence_hint(world):
    client = client_for(world.guardian_a)
    url = reverse("messaging_compose", kwargs={"pupil_id": world.child_a.pk})
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # 07:45: before the contact teacher's working hours (08–16).
    assert 'data-testid="working-hours"' in html and "08:00" in html and "16:00" in html
    assert reverse("absence_report_create", kwargs={"pupil_id": world.child_a.pk}) in html
    # The contact teacher is chosen by default.
    assert 'value="contact_teacher"' in html and "checked" in html
    response = client.post(
        url,
        {
            "recipients": ["contact_teacher"],
            "subject": "Gymtøy",
            "body": "Anna har gløymt gymtøyet.",
            "idempotency_key": "k1",
        },
    )
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging_thread", kwargs={"thread_id": thread.pk})
    # A double tap sends once.
    client.post(
        url,
        {
            "recipients": ["contact_teacher"],
            "subject": "Gymtøy",
            "body": "Anna har gløymt gymtøyet.",
            "idempotency_key": "k1",
        },
    )
    assert Thread.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"recipients": ["contact_teacher"], "subject": "Kladd", "body": ""}, "body"),
        ({"recipients": [], "subject": "Kladd", "body": "Teksten min"}, "recipients"),
        ({"recipients": ["advisor"], "subject": "Kladd", "body": "Teksten min"}, "recipients"),
    ],
)
def test_bad_input_keeps_the_draft(world, data, error):
    client = client_for(world.guardian_a)
    url = reverse("messaging_compose", kwargs={"pupil_id": world.child_a.pk})
    response = client.post(url, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert error in form.errors
    html = response.content.decode()
    assert 'value="Kladd"' in html
    if data["body"]:
        assert "Teksten min" in html
    assert not Thread.objects.exists()


def test_attachment_too_large_is_refused_on_arrival_and_the_draft_is_kept(world):
    services.messaging_settings_save(
        actor=world.school_admin, school_id=world.school.pk, guardian_roles=[], max_attachment_mb=1
    )
    client = client_for(world.guardian_a)
    url = reverse("messaging_compose", kwargs={"pupil_id": world.child_a.pk})
    big = pdf(data=PDF + b"0" * (1024 * 1024 + 10))
    response = client.post(
        url,
        {
            "recipients": ["contact_teacher"],
            "subject": "Kladd",
            "body": "Teksten min",
            "attachments": [big],
        },
    )
    assert response.status_code == 400
    assert "attachments" in response.context["form"].errors
    assert "1 MB" in response.content.decode()
    assert "Teksten min" in response.content.decode()
    assert not Thread.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("side.html", b"<html><script>alert(1)</script></html>"),
        ("bilete.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("program.exe", b"MZ\x90\x00" + b"\x00" * 60),
        ("brev.pdf", b"MZ\x90\x00 not a pdf at all"),
    ],
)
def test_forbidden_types_are_refused(world, name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(world.guardian_a)
    url = reverse("messaging_compose", kwargs={"pupil_id": world.child_a.pk})
    response = client.post(
        url,
        {
            "recipients": ["contact_teacher"],
            "subject": "S",
            "body": "B",
            "attachments": [SimpleUploadedFile(name, data)],
        },
    )
    assert response.status_code == 400
    assert "attachments" in response.context["form"].errors
    assert not Thread.objects.exists()


def test_thread_read_status_seen_by_the_sender(world):
    thread = guardian_thread(world, files=[pdf()])
    guardian = client_for(world.guardian_a)
    url = reverse("messaging_thread", kwargs={"thread_id": thread.pk})
    html = guardian.get(url).content.decode()
    assert 'data-read="false"' in html
    assert "Teacher A" in html  # the guardian sees who is on the thread
    teacher = client_for(world.contact_teacher_a)
    assert teacher.get(url).status_code == 200
    html = guardian.get(url).content.decode()
    assert 'data-read="true"' in html
    response = teacher.post(url, {"body": "Takk for beskjed."})
    assert response.status_code == 302
    assert Message.objects.filter(thread=thread).count() == 2
    # The guardian's inbox shows one unread.
    inbox = guardian.get(reverse("messaging_inbox"))
    assert inbox.context["page"][0].unread == 1


def test_empty_reply_keeps_the_page(world):
    thread = guardian_thread(world)
    response = client_for(world.contact_teacher_a).post(
        reverse("messaging_thread", kwargs={"thread_id": thread.pk}), {"body": "  "}
    )
    assert response.status_code == 400
    assert Message.objects.count() == 1


def test_another_familys_thread_is_404(world):
    thread = guardian_thread(world)
    message = thread.messages.get()
    for outsider in (world.guardian_b, world.contact_teacher_b, world.office, world.leadership):
        client = client_for(outsider)
        url = reverse("messaging_thread", kwargs={"thread_id": thread.pk})
        assert client.get(url).status_code == 404
        assert client.post(url, {"body": "inn"}).status_code == 404
        assert (
            client.post(reverse("messaging_archive", kwargs={"thread_id": thread.pk})).status_code
            == 404
        )
    assert Message.objects.get() == message


def test_inbox_search_and_htmx_partial(world):
    guardian_thread(world, subject="Tur", body="Sykkeltur")
    guardian_thread(world, subject="Mat", body="Matpakke")
    client = client_for(world.guardian_a)
    response = client.get(reverse("messaging_inbox"), {"q": "sykkel"})
    assert [row.thread.subject for row in response.context["page"]] == ["Tur"]
    partial = client.get(reverse("messaging_inbox"), headers={"HX-Request": "true"})
    assert partial.templates[0].name == "messaging/inbox_list.html"
    assert b"<html" not in partial.content


def test_group_message_confirmation_step(world):
    client = client_for(world.contact_teacher_a)
    url = reverse("messaging_broadcast")
    data = {
        "groups": [world.class_a.pk],
        "subject": "Tur",
        "body": "Vi går på tur.",
        "idempotency_key": "b1",
    }
    step = client.post(url, data)
    assert step.status_code == 200
    html = step.content.decode()
    assert step.templates[0].name == "messaging/broadcast_confirm.html"
    assert world.child_a.full_name in html and world.child_b.full_name in html
    # Never a guardian's name or address on the confirmation.
    assert "Guardian A" not in html and world.guardian_a.email not in html
    assert not Thread.objects.exists()
    # Sent without ticking the count: refused, nothing sent.
    refused = client.post(url, {**data, "confirm_step": "1"})
    assert refused.status_code == 400 and not Thread.objects.exists()
    # A wrong count: refused.
    wrong = client.post(url, {**data, "confirm_step": "1", "confirmed_count": "5"})
    assert wrong.status_code == 400 and not Thread.objects.exists()
    sent = client.post(url, {**data, "confirm_step": "1", "confirmed_count": "2"})
    broadcast = Broadcast.objects.get()
    assert sent["Location"] == reverse(
        "messaging_broadcast_detail", kwargs={"broadcast_id": broadcast.pk}
    )
    assert Thread.objects.count() == 2
    detail = client.get(sent["Location"])
    assert detail.status_code == 200 and len(detail.context["rows"]) == 2


def test_sensitive_group_message_is_refused(world):
    client = client_for(world.contact_teacher_a)
    response = client.post(
        reverse("messaging_broadcast"),
        {"groups": [world.class_a.pk], "subject": "S", "body": "B", "sensitive": "on"},
    )
    assert response.status_code == 400
    assert "sensitive" in response.context["form"].errors
    assert not Thread.objects.exists()


def test_staff_write_to_a_family_and_see_the_recipients(world):
    client = client_for(world.contact_teacher_a)
    url = reverse("messaging_compose_family", kwargs={"pupil_id": world.child_b.pk})
    html = client.get(url).content.decode()
    assert "Guardian B" in html and "Father Without" not in html
    response = client.post(url, {"subject": "Tur", "body": "Hei", "sensitive": "on"})
    assert response.status_code == 302
    thread = Thread.objects.get()
    assert thread.sensitive


def test_add_a_colleague(world):
    thread = guardian_thread(world)
    client = client_for(world.contact_teacher_a)
    member = world.office.staff_memberships.get()
    response = client.post(
        reverse("messaging_participant_add", kwargs={"thread_id": thread.pk}),
        {"member": member.pk},
    )
    assert response.status_code == 302
    assert Participant.objects.filter(thread=thread, user=world.office).exists()
    # The guardian may not add anyone.
    response = client_for(world.guardian_a).post(
        reverse("messaging_participant_add", kwargs={"thread_id": thread.pk}),
        {"member": world.leadership.staff_memberships.get().pk},
    )
    assert response.status_code == 404


def test_archive_and_back(world):
    thread = guardian_thread(world)
    client = client_for(world.guardian_a)
    url = reverse("messaging_archive", kwargs={"thread_id": thread.pk})
    assert client.post(url, {"archived": "1"})["Location"] == reverse("messaging_inbox")
    assert not client.get(reverse("messaging_inbox")).context["page"].object_list
    assert client.get(reverse("messaging_inbox"), {"archived": "1"}).context["page"][0]
    client.post(url, {"archived": "0"})
    assert client.get(reverse("messaging_inbox")).context["page"][0]


def test_school_admin_sets_roles(world):
    client = client_for(world.school_admin)
    url = reverse("messaging_settings", kwargs={"school_id": world.school.pk})
    response = client.post(url, {"guardian_roles": ["advisor"], "max_attachment_mb": "5"})
    assert response.status_code == 302
    from kontaktbok.messaging.selectors import messaging_settings

    saved = messaging_settings(world.school.pk)
    assert saved.guardian_roles == ["advisor"] and saved.max_attachment_mb == 5
    assert client.post(url, {"max_attachment_mb": "99"}).status_code == 400


def _count_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_inbox_page_and_api_list_queries_stay_the_same_with_10_and_1000_threads(world):
    from tests.messaging.test_selectors import _bulk_threads

    client = client_for(world.guardian_a)
    _bulk_threads(world, 10)
    page_few = _count_queries(client, reverse("messaging_inbox"))
    api_few = _count_queries(client, "/api/v1/messages/threads")
    _bulk_threads(world, 990)
    page_many = _count_queries(client, reverse("messaging_inbox"))
    api_many = _count_queries(client, "/api/v1/messages/threads")
    assert page_few == page_many and api_few == api_many
    assert page_many <= 20 and api_many <= 15


@pytest.mark.parametrize(
    ("who", "page", "data"),
    [
        ("guardian_a", "messaging_compose", {"recipients": ["contact_teacher"]}),
        ("contact_teacher_a", "messaging_compose_family", {}),
        ("guardian_a", "messaging_thread", {}),
    ],
)
def test_csrf_is_still_checked_on_pages_that_take_files(world, who, page, data):
    """These pages set the upload limit before the CSRF check reads the body (csrf_exempt
    outside, csrf_protect inside): a post without the token is refused and writes
    nothing, and the same post with the page's token is sent."""
    thread = guardian_thread(world)
    kwargs = (
        {"thread_id": thread.pk} if page == "messaging_thread" else {"pupil_id": world.child_a.pk}
    )
    url = reverse(page, kwargs=kwargs)
    client = Client(enforce_csrf_checks=True)
    client.cookies["kontaktbok_language"] = "en"
    client.force_login(getattr(world, who))
    data = data | {"subject": "S", "body": "B"}
    refused = client.post(url, data | {"attachments": [pdf()]})
    assert refused.status_code == 403
    assert "CSRF verification failed" in refused.content.decode()
    assert Message.objects.count() == 1
    [form] = [f for f in post_forms(client.get(url).content.decode()) if "body" in f["data"]]
    token = form["data"]["csrfmiddlewaretoken"]
    sent = client.post(url, data | {"attachments": [pdf()], "csrfmiddlewaretoken": token})
    assert sent.status_code == 302
    assert Message.objects.count() == 2
    assert Message.objects.latest("pk").attachments.count() == 1


def test_reading_a_sensitive_thread_is_audited(world):
    from kontaktbok.core.models import AuditEntry

    thread = services.thread_start_by_staff(
        actor=world.contact_teacher_a,
        pupil_id=world.child_b.pk,
        subject="S",
        body="B",
        sensitive=True,
    )
    client_for(world.guardian_b).get(reverse("messaging_thread", kwargs={"thread_id": thread.pk}))
    assert AuditEntry.objects.filter(
        action="messaging.thread.read", actor=world.guardian_b, object_id=str(thread.pk)
    ).exists()
