"""Reads about messages: who sees which thread, the inbox (unread counts, search, archive)
and its query count as the threads grow."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontaktbok.core import clock
from kontaktbok.messaging import selectors, services
from kontaktbok.messaging.models import Message, Participant, Thread
from kontaktbok.schools.models import StaffRole
from tests.messaging.helpers import guardian_thread

Role = StaffRole.Role
pytestmark = pytest.mark.django_db


def _bulk_threads(world, count: int) -> None:
    """``count`` threads between guardian_a and the contact teacher, in three queries
    (volume for the query-count test; the rules are tested through the services)."""
    now = clock.now()
    threads = Thread.objects.bulk_create(
        [
            Thread(
                school=world.school,
                pupil=world.child_a,
                subject=f"Tråd {n}",
                created_by=world.guardian_a,
                created_at=now,
                last_message_at=now + dt.timedelta(seconds=n),
            )
            for n in range(count)
        ]
    )
    Participant.objects.bulk_create(
        [
            Participant(thread=t, user=u, side=side, role=role, joined_at=now)
            for t in threads
            for u, side, role in (
                (world.guardian_a, "guardian", "guardian"),
                (world.contact_teacher_a, "staff", Role.CONTACT_TEACHER),
            )
        ]
    )
    Message.objects.bulk_create(
        [
            Message(
                thread=t, author=world.contact_teacher_a, body=f"Melding {t.pk}", created_at=now
            )
            for t in threads
        ]
    )


def _inbox_queries(actor) -> int:
    from django.core.paginator import Paginator

    actor = type(actor).objects.get(pk=actor.pk)  # no roles cached from an earlier call
    with CaptureQueriesContext(connection) as captured:
        page = Paginator(selectors.inbox(actor=actor), selectors.INBOX_PAGE_SIZE).get_page(1)
        for row in page:
            assert row.thread.subject and row.thread.pupil.full_name and row.last_body
            assert row.unread >= 0
    return len(captured.captured_queries)


def test_inbox_queries_stay_the_same_with_10_and_1000_threads(world):
    _bulk_threads(world, 10)
    few = _inbox_queries(world.guardian_a)
    _bulk_threads(world, 990)
    many = _inbox_queries(world.guardian_a)
    assert few == many
    assert many <= 15


def test_inbox_unread_counts_and_order(world):
    first = guardian_thread(world, subject="Første")
    second = guardian_thread(world, subject="Andre")
    services.message_reply(actor=world.contact_teacher_a, thread_id=first.pk, body="Svar 1")
    services.message_reply(actor=world.contact_teacher_a, thread_id=first.pk, body="Svar 2")
    rows = list(selectors.inbox(actor=world.guardian_a))
    assert [r.thread_id for r in rows] == [first.pk, second.pk]
    assert [r.unread for r in rows] == [2, 0]
    assert rows[0].last_body == "Svar 2"
    teacher_rows = {r.thread_id: r.unread for r in selectors.inbox(actor=world.contact_teacher_a)}
    assert teacher_rows == {first.pk: 0, second.pk: 1}
    services.thread_mark_read(actor=world.guardian_a, thread_id=first.pk)
    assert selectors.inbox(actor=world.guardian_a).get(thread=first).unread == 0
    assert selectors.unread_total(actor=world.contact_teacher_a) == 1


def test_search_only_in_ones_own_threads(world):
    guardian_thread(world, subject="Tur", body="Sykkeltur på fredag")
    guardian_thread(world, guardian=world.guardian_b, pupil=world.child_b, body="Sykkel B")
    assert [r.thread.subject for r in selectors.inbox(actor=world.guardian_a, q="sykkel")] == [
        "Tur"
    ]
    assert selectors.inbox(actor=world.guardian_a, q="tur").count() == 1
    assert selectors.inbox(actor=world.guardian_a, q="ingenting").count() == 0
    assert selectors.inbox(actor=world.guardian_b, q="fredag").count() == 0


def test_a_guardian_never_sees_another_familys_thread(world):
    thread = guardian_thread(world)
    for outsider in (
        world.guardian_b,
        world.guardian_without_responsibility,
        world.restricted_guardian,
        world.other_leadership,
        world.contact_teacher_b,
        world.office,
        world.leadership,
    ):
        assert not selectors.visible_threads(outsider).filter(pk=thread.pk).exists()
        assert not selectors.inbox(actor=outsider).exists()


def test_a_teacher_sees_only_threads_they_are_on(world):
    on = guardian_thread(world)
    services.thread_start_by_staff(
        actor=world.office, pupil_id=world.child_a.pk, subject="Kontor", body="Hei"
    )
    assert list(selectors.visible_threads(world.contact_teacher_a)) == [on]


def test_staff_who_leave_the_school_lose_the_thread(world):
    from kontaktbok.schools.models import StaffMember

    thread = guardian_thread(world)
    StaffMember.objects.filter(user=world.contact_teacher_a).delete()
    teacher = type(world.contact_teacher_a).objects.get(pk=world.contact_teacher_a.pk)
    assert not selectors.visible_threads(teacher).filter(pk=thread.pk).exists()


def test_restricted_guardian_on_a_thread_still_cannot_see_it(world):
    """Even if a restricted guardian were put on a thread about a protected child."""
    thread = services.thread_start_by_staff(
        actor=world.contact_teacher_b,
        pupil_id=world.protected_child.pk,
        subject="S",
        body="B",
    )
    Participant.objects.create(
        thread=thread,
        user=world.restricted_guardian,
        side="guardian",
        role="guardian",
        joined_at=clock.now(),
    )
    assert not selectors.visible_threads(world.restricted_guardian).exists()


def test_attachment_scope(world):
    from tests.messaging.helpers import pdf

    thread = guardian_thread(world, files=[pdf()])
    attachment = thread.messages.get().attachments.get()
    assert selectors.get_attachment(actor=world.contact_teacher_a, attachment_id=attachment.pk)
    from django.http import Http404

    for outsider in (world.guardian_b, world.contact_teacher_b, world.office):
        with pytest.raises(Http404):
            selectors.get_attachment(actor=outsider, attachment_id=attachment.pk)


def test_recipient_choices_follow_the_school_settings(world):
    from tests import factories

    factories.staff(world.school, Role.SOCIAL_TEACHER, name="Sosial")
    roles = [c.role for c in selectors.guardian_recipient_choices(pupil=world.child_a)]
    assert roles == [Role.CONTACT_TEACHER, Role.OFFICE, Role.LEADERSHIP]
    services.messaging_settings_save(
        actor=world.school_admin,
        school_id=world.school.pk,
        guardian_roles=[Role.SOCIAL_TEACHER, Role.ADVISOR],
        max_attachment_mb=10,
    )
    roles = [c.role for c in selectors.guardian_recipient_choices(pupil=world.child_a)]
    # The advisor is allowed, but nobody holds that role: not offered.
    assert roles == [Role.CONTACT_TEACHER, Role.OFFICE, Role.LEADERSHIP, Role.SOCIAL_TEACHER]
