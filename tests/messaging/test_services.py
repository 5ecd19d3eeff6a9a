"""Writes about messages: who may write to whom, the wrong-recipient guard, read marks,
archiving, idempotency, audit and notifications."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.messaging import selectors, services
from kontaktbok.messaging.models import Broadcast, Message, Participant, Thread
from kontaktbok.notifications.models import Delivery, Notification
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import StaffRole
from tests import factories
from tests.messaging.helpers import guardian_thread

Role = StaffRole.Role
pytestmark = pytest.mark.django_db


def _users(thread: Thread) -> set:
    return {p.user_id for p in thread.participants.all()}


# --- a guardian writes --------------------------------------------------------------------


def test_guardian_writes_to_the_contact_teacher(world):
    thread = guardian_thread(world)
    assert thread.pupil == world.child_a
    assert _users(thread) == {world.guardian_a.pk, world.contact_teacher_a.pk}
    teacher = thread.participants.get(user=world.contact_teacher_a)
    assert teacher.side == "staff" and teacher.role == Role.CONTACT_TEACHER
    assert AuditEntry.objects.filter(action="messaging.thread.created", object_id=str(thread.pk))
    notification = Notification.objects.get(recipient=world.contact_teacher_a)
    assert notification.kind == "messaging.message"
    assert notification.url == f"/messages/{thread.pk}/"
    # Not the guardian themselves.
    assert not Notification.objects.filter(recipient=world.guardian_a).exists()


def test_guardian_may_add_kontor_and_leiing(world):
    thread = guardian_thread(world, roles=[Role.CONTACT_TEACHER, Role.OFFICE, Role.LEADERSHIP])
    assert _users(thread) == {
        world.guardian_a.pk,
        world.contact_teacher_a.pk,
        world.office.pk,
        world.leadership.pk,
    }


def test_only_roles_the_school_allows(world):
    factories.staff(world.school, Role.ADVISOR, name="Advisor")
    with pytest.raises(ValidationError) as error:
        guardian_thread(world, roles=[Role.ADVISOR])
    assert "recipients" in error.value.message_dict
    services.messaging_settings_save(
        actor=world.school_admin,
        school_id=world.school.pk,
        guardian_roles=[Role.ADVISOR],
        max_attachment_mb=10,
    )
    thread = guardian_thread(world, roles=[Role.ADVISOR])
    assert thread.participants.filter(role=Role.ADVISOR).count() == 1


def test_contact_teacher_of_another_class_is_not_a_choice(world):
    choices = selectors.guardian_recipient_choices(pupil=world.child_a)
    contact = next(c for c in choices if c.role == Role.CONTACT_TEACHER)
    assert contact.users == [world.contact_teacher_a] and contact.default


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("body", {"body": "   "}),
        ("subject", {"subject": ""}),
        ("recipients", {"roles": ["nobody"]}),
    ],
)
def test_bad_input_is_refused_with_a_message(world, field, kwargs):
    with pytest.raises(ValidationError) as error:
        if "roles" in kwargs:
            services.thread_start_by_guardian(
                actor=world.guardian_a,
                pupil_id=world.child_a.pk,
                subject="S",
                body="B",
                roles=kwargs["roles"],
            )
        else:
            guardian_thread(world, **kwargs)
    assert field in error.value.message_dict
    assert not Thread.objects.exists()


def test_no_recipients_chosen(world):
    with pytest.raises(ValidationError) as error:
        services.thread_start_by_guardian(
            actor=world.guardian_a, pupil_id=world.child_a.pk, roles=[], subject="S", body="B"
        )
    assert "recipients" in error.value.message_dict


def test_a_guardian_cannot_write_about_another_familys_child(world):
    with pytest.raises(PermissionDenied):
        guardian_thread(world, guardian=world.guardian_b, pupil=world.child_a)
    with pytest.raises(PermissionDenied):
        guardian_thread(world, guardian=world.guardian_without_responsibility, pupil=world.child_b)
    with pytest.raises(PermissionDenied):
        guardian_thread(world, guardian=world.restricted_guardian, pupil=world.protected_child)


def test_double_tap_gives_one_thread(world):
    first = guardian_thread(world, idempotency_key="tap-1")
    second = guardian_thread(world, idempotency_key="tap-1")
    assert first == second
    assert Thread.objects.count() == 1 and Message.objects.count() == 1


# --- the school writes to a family --------------------------------------------------------


def test_school_writes_to_guardians_who_may_receive_information(world):
    thread = services.thread_start_by_staff(
        actor=world.contact_teacher_a, pupil_id=world.child_b.pk, subject="Tur", body="Hei"
    )
    # guardian_b only: the father without parental responsibility never.
    assert _users(thread) == {world.contact_teacher_a.pk, world.guardian_b.pk}


def test_restricted_guardian_is_never_a_recipient(world):
    thread = services.thread_start_by_staff(
        actor=world.contact_teacher_b,
        pupil_id=world.protected_child.pk,
        subject="Tur",
        body="Hei",
    )
    assert world.restricted_guardian.pk not in _users(thread)
    assert world.guardian_b.pk in _users(thread)
    families = selectors.broadcast_families(
        actor=world.contact_teacher_b, group_ids=[world.class_b.pk]
    )
    reached = {user.pk for _pupil, users in families.reached for user in users}
    assert world.restricted_guardian.pk not in reached


def test_staff_write_only_about_pupils_they_see(world):
    with pytest.raises(PermissionDenied):
        services.thread_start_by_staff(
            actor=world.contact_teacher_b, pupil_id=world.child_a.pk, subject="S", body="B"
        )
    with pytest.raises(PermissionDenied):
        services.thread_start_by_staff(
            actor=world.other_leadership, pupil_id=world.child_a.pk, subject="S", body="B"
        )
    with pytest.raises(PermissionDenied):
        services.thread_start_by_staff(
            actor=world.guardian_a, pupil_id=world.child_a.pk, subject="S", body="B"
        )


def test_bulk_family_rule_matches_guardians_to_inform(world):
    from kontaktbok.schools.selectors import guardians_to_inform

    families = selectors.broadcast_families(
        actor=world.office, group_ids=[world.class_a.pk, world.class_b.pk]
    )
    for pupil, users in families.reached:
        assert users == guardians_to_inform(pupil)
    for pupil in families.unreachable:
        assert guardians_to_inform(pupil) == []


# --- messages to groups, and the wrong-recipient guard ------------------------------------


def test_group_message_needs_the_count_confirmed(world):
    with pytest.raises(ValidationError) as error:
        services.broadcast_send(
            actor=world.contact_teacher_a, group_ids=[world.class_a.pk], subject="S", body="B"
        )
    assert "confirmed_count" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.broadcast_send(
            actor=world.contact_teacher_a,
            group_ids=[world.class_a.pk],
            subject="S",
            body="B",
            confirmed_count=3,
        )
    assert not Thread.objects.exists()
    broadcast = services.broadcast_send(
        actor=world.contact_teacher_a,
        group_ids=[world.class_a.pk],
        subject="Tur",
        body="B",
        confirmed_count=2,
    )
    assert broadcast.family_count == 2
    threads = list(broadcast.threads.all())
    assert {t.pupil_id for t in threads} == {world.child_a.pk, world.child_b.pk}
    # One thread per family: no guardian is on another family's thread.
    for thread in threads:
        guardians = set(thread.participants.filter(side="guardian").values_list("user", flat=True))
        expected = world.guardian_a.pk if thread.pupil == world.child_a else world.guardian_b.pk
        assert guardians == {expected}
    assert AuditEntry.objects.filter(action="messaging.broadcast.sent").count() == 1


def test_sensitive_message_goes_to_one_family_only(world):
    with pytest.raises(ValidationError) as error:
        services.broadcast_send(
            actor=world.contact_teacher_a,
            group_ids=[world.class_a.pk],
            subject="S",
            body="B",
            sensitive=True,
            confirmed_count=2,
        )
    assert "sensitive" in error.value.message_dict
    assert not Thread.objects.exists()


def test_one_family_needs_no_confirmation(world):
    group = school_services.group_create(
        actor=None, school_year=world.class_a.school_year, name="Kor", kind="teaching"
    )
    group.pupils.add(world.child_a)
    school_services.staff_role_grant(
        actor=None,
        member=world.contact_teacher_a.staff_memberships.get(),
        role=Role.TEACHER,
        group=group,
    )
    broadcast = services.broadcast_send(
        actor=world.contact_teacher_a,
        group_ids=[group.pk],
        subject="S",
        body="B",
        sensitive=True,
    )
    assert broadcast.family_count == 1


def test_group_message_only_to_ones_own_groups(world):
    # Another teacher's class is refused as unknown (404 in the API), like any foreign id.
    with pytest.raises(PermissionDenied):
        services.broadcast_send(
            actor=world.contact_teacher_b,
            group_ids=[world.class_a.pk],
            subject="S",
            body="B",
            confirmed_count=2,
        )
    with pytest.raises(PermissionDenied):
        services.broadcast_send(
            actor=world.guardian_a, group_ids=[world.class_a.pk], subject="S", body="B"
        )


def test_group_replies_stay_with_the_family(world):
    broadcast = services.broadcast_send(
        actor=world.contact_teacher_a,
        group_ids=[world.class_a.pk],
        subject="Tur",
        body="B",
        confirmed_count=2,
        idempotency_key="b1",
    )
    assert (
        services.broadcast_send(
            actor=world.contact_teacher_a,
            group_ids=[world.class_a.pk],
            subject="Tur",
            body="B",
            confirmed_count=2,
            idempotency_key="b1",
        )
        == broadcast
    )
    thread_a = broadcast.threads.get(pupil=world.child_a)
    thread_b = broadcast.threads.get(pupil=world.child_b)
    services.message_reply(actor=world.guardian_a, thread_id=thread_a.pk, body="Svar A")
    services.message_reply(actor=world.guardian_b, thread_id=thread_b.pk, body="Svar B")
    with pytest.raises(PermissionDenied):
        services.message_reply(actor=world.guardian_b, thread_id=thread_a.pk, body="x")
    seen_by_b = Message.objects.filter(thread__in=selectors.visible_threads(world.guardian_b))
    assert "Svar A" not in {m.body for m in seen_by_b}
    status = selectors.broadcast_status(broadcast=broadcast)
    assert [s.replies for s in status] == [1, 1]
    assert Broadcast.objects.count() == 1


# --- in a thread --------------------------------------------------------------------------


def test_reply_notifies_others_and_read_marks(world):
    thread = guardian_thread(world)
    first = thread.messages.get()
    view = selectors.thread_view(
        actor=world.guardian_a, thread=thread, me=thread.participants.get(user=world.guardian_a)
    )
    assert [m.read for m in view.rows[0].read_by] == [False]
    services.thread_mark_read(actor=world.contact_teacher_a, thread_id=thread.pk)
    view = selectors.thread_view(
        actor=world.guardian_a, thread=thread, me=thread.participants.get(user=world.guardian_a)
    )
    assert [m.read for m in view.rows[0].read_by] == [True]
    reply = services.message_reply(actor=world.contact_teacher_a, thread_id=thread.pk, body="Takk")
    assert reply.created_at >= first.created_at
    assert Notification.objects.filter(
        recipient=world.guardian_a, dedup_key=f"messaging.message:{reply.pk}"
    ).exists()


def test_notification_to_staff_waits_for_working_hours(world):
    # 07:45 on a Tuesday: inside the sending window, before the school's 08:00 start.
    guardian_thread(world)
    notification = Notification.objects.get(recipient=world.contact_teacher_a)
    due = {d.due_at for d in Delivery.objects.filter(notification=notification)}
    assert due
    assert all(d.astimezone(clock.SCHOOL_TZ).time() == dt.time(8, 0) for d in due)


def test_reply_needs_text_and_a_thread_one_is_on(world):
    thread = guardian_thread(world)
    with pytest.raises(ValidationError) as error:
        services.message_reply(actor=world.guardian_a, thread_id=thread.pk, body=" ")
    assert "body" in error.value.message_dict
    for outsider in (world.guardian_b, world.contact_teacher_b, world.office, world.leadership):
        with pytest.raises(PermissionDenied):
            services.message_reply(actor=outsider, thread_id=thread.pk, body="x")


def test_staff_add_a_colleague_guardians_cannot(world):
    thread = guardian_thread(world)
    with pytest.raises(PermissionDenied):
        services.participant_add(
            actor=world.guardian_a, thread_id=thread.pk, user_id=world.office.pk
        )
    participant = services.participant_add(
        actor=world.contact_teacher_a, thread_id=thread.pk, user_id=world.office.pk
    )
    assert participant.role == Role.OFFICE and participant.added_by == world.contact_teacher_a
    assert Notification.objects.filter(recipient=world.office, kind="messaging.added").exists()
    with pytest.raises(ValidationError):
        services.participant_add(
            actor=world.contact_teacher_a, thread_id=thread.pk, user_id=world.office.pk
        )
    with pytest.raises(ValidationError):  # another school's staff
        services.participant_add(
            actor=world.contact_teacher_a, thread_id=thread.pk, user_id=world.other_leadership.pk
        )
    with pytest.raises(ValidationError):  # a guardian is no colleague
        services.participant_add(
            actor=world.contact_teacher_a, thread_id=thread.pk, user_id=world.guardian_b.pk
        )


def test_archive_is_per_user_and_a_new_message_brings_it_back(world):
    thread = guardian_thread(world)
    services.thread_archive(actor=world.guardian_a, thread_id=thread.pk, archived=True)
    assert not selectors.inbox(actor=world.guardian_a).exists()
    assert selectors.inbox(actor=world.guardian_a, archived=True).count() == 1
    assert selectors.inbox(actor=world.contact_teacher_a).count() == 1
    services.message_reply(actor=world.contact_teacher_a, thread_id=thread.pk, body="Svar")
    assert selectors.inbox(actor=world.guardian_a).count() == 1
    # Nothing is deleted.
    assert Message.objects.count() == 2


def test_guardian_who_loses_responsibility_loses_the_thread(world):
    thread = guardian_thread(world)
    school_services.guardianship_set(
        actor=None,
        guardian=world.guardian_a,
        pupil=world.child_a,
        parental_responsibility=False,
    )
    assert not selectors.visible_threads(world.guardian_a).filter(pk=thread.pk).exists()


def test_settings_only_for_the_school_admin(world):
    with pytest.raises(PermissionDenied):
        services.messaging_settings_save(
            actor=world.leadership,
            school_id=world.school.pk,
            guardian_roles=[],
            max_attachment_mb=5,
        )
    with pytest.raises(ValidationError):
        services.messaging_settings_save(
            actor=world.school_admin,
            school_id=world.school.pk,
            guardian_roles=[Role.LEADERSHIP],
            max_attachment_mb=50,
        )


def test_working_hours_note_outside_hours(world):
    notes = selectors.outside_working_hours([("Kontaktlæraren", world.contact_teacher_a)])
    assert [(n.start, n.end) for n in notes] == [(dt.time(8), dt.time(16))]
    with time_machine.travel("2026-11-24 10:00 +0100", tick=False):
        assert selectors.outside_working_hours([("x", world.contact_teacher_a)]) == []
    with time_machine.travel("2026-11-28 10:00 +0100", tick=False):  # Saturday
        assert selectors.outside_working_hours([("x", world.contact_teacher_a)])
    assert selectors.outside_working_hours([("x", world.guardian_a)]) == []


def test_participant_rows_are_unique(world):
    thread = guardian_thread(world, roles=[Role.CONTACT_TEACHER, Role.OFFICE])
    assert Participant.objects.filter(thread=thread).count() == 3


def test_a_sender_who_is_also_a_guardian_in_the_group_is_on_that_thread_once(world):
    school_services.guardianship_set(
        actor=None, guardian=world.contact_teacher_a, pupil=world.child_b
    )
    broadcast = services.broadcast_send(
        actor=world.contact_teacher_a,
        group_ids=[world.class_a.pk],
        subject="Tur",
        body="B",
        confirmed_count=2,
    )
    thread = broadcast.threads.get(pupil=world.child_b)
    mine = thread.participants.filter(user=world.contact_teacher_a)
    assert [(p.side, p.role) for p in mine] == [("staff", "contact_teacher")]
