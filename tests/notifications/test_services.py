"""The outbox: de-duplication, channels, preferences, sending window, working hours,
digest and urgency, with frozen time in Europe/Oslo."""

import datetime as dt

import pytest
import time_machine

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications import services
from kontaktbok.notifications.models import Delivery, Notification
from kontaktbok.schools.models import StaffRole
from tests import factories

# The outbox: what notify writes. The worker that delivers it is tried in test_delivery.py.
pytestmark = pytest.mark.usefixtures("queued_tasks")

OSLO = clock.SCHOOL_TZ


def at(hour, minute=0, day=24):
    """A moment in November 2026 in Oslo (the 24th is a Tuesday, the 28th a Saturday)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=OSLO)


def channels(notification):
    return sorted(notification.deliveries.values_list("channel", flat=True))


@pytest.fixture
def guardian(db):
    return factories.user("Guardian", phone="+4791234567")


def test_notify_is_idempotent_by_dedup_key(guardian):
    first = services.notify(
        recipient=guardian, kind="tests.urgent", dedup_key="absence:1:day", payload={"n": 1}
    )
    second = services.notify(
        recipient=guardian, kind="tests.urgent", dedup_key="absence:1:day", payload={"n": 2}
    )
    assert first.pk == second.pk
    assert Notification.objects.filter(recipient=guardian).count() == 1
    assert Delivery.objects.filter(notification=first).count() == 2  # e-mail and SMS


def test_same_key_for_another_person_is_another_notification(guardian):
    other = factories.user("Other", phone="+4798765432")
    services.notify(recipient=guardian, kind="tests.urgent", dedup_key="k", payload={"n": 1})
    services.notify(recipient=other, kind="tests.urgent", dedup_key="k", payload={"n": 1})
    assert Notification.objects.filter(dedup_key="k").count() == 2


def test_urgent_goes_on_every_channel_at_once_even_at_night(guardian):
    with time_machine.travel(at(2, 30), tick=False):
        notification = services.notify(
            recipient=guardian, kind="tests.urgent", dedup_key="night", payload={"n": 1}
        )
        assert channels(notification) == ["email", "sms"]
        assert all(d.due_at == clock.now() for d in notification.deliveries.all())


def test_urgent_ignores_preferences(guardian):
    services.preferences_save(actor=guardian, choices={"tests.plain": set()}, digest=True)
    with pytest.raises(ValueError):
        services.preferences_save(actor=guardian, choices={"tests.urgent": set()}, digest=False)
    notification = services.notify(
        recipient=guardian, kind="tests.urgent", dedup_key="u", payload={"n": 1}
    )
    assert channels(notification) == ["email", "sms"]
    assert set(notification.deliveries.values_list("status", flat=True)) == {"pending"}


def test_non_urgent_follows_the_default_channels_and_preferences(guardian):
    plain = services.notify(recipient=guardian, kind="tests.plain", dedup_key="a", payload={"n": 1})
    assert channels(plain) == ["email"]  # default e-mail and push; no device registered
    services.preferences_save(actor=guardian, choices={"tests.plain": {"sms"}}, digest=False)
    plain = services.notify(recipient=guardian, kind="tests.plain", dedup_key="b", payload={"n": 1})
    assert channels(plain) == ["sms"]
    services.preferences_save(actor=guardian, choices={"tests.plain": set()}, digest=False)
    silent = services.notify(
        recipient=guardian, kind="tests.plain", dedup_key="c", payload={"n": 1}
    )
    assert channels(silent) == []  # still listed in the app
    assert Notification.objects.filter(pk=silent.pk, read_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (at(6, 10), at(7, 0)),  # before the window: 07:00 the same day
        (at(12, 0), at(12, 0)),  # inside: at once
        (at(21, 30), at(7, 0, day=25)),  # after: 07:00 the next day
        (at(23, 0, day=28), at(7, 0, day=29)),  # guardians get it on Sundays too
    ],
)
def test_non_urgent_waits_for_the_sending_window(guardian, now, due):
    with time_machine.travel(now, tick=False):
        notification = services.notify(
            recipient=guardian, kind="tests.plain", dedup_key="w", payload={"n": 1}
        )
    assert [d.due_at for d in notification.deliveries.all()] == [due]


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (at(7, 30), at(8, 0)),  # before working hours
        (at(15, 59), at(15, 59)),  # inside
        (at(16, 30), at(8, 0, day=25)),  # after: next working day
        (at(10, 0, day=28), at(8, 0, day=30)),  # Saturday: Monday 08:00
    ],
)
def test_staff_get_non_urgent_in_working_hours(world, now, due):
    teacher = world.contact_teacher_a
    with time_machine.travel(now, tick=False):
        notification = services.notify(
            recipient=teacher, kind="tests.plain", dedup_key="s", payload={"n": 1}
        )
    assert [d.due_at for d in notification.deliveries.all()] == [due]


def test_a_staff_members_own_hours_override_the_schools(world):
    member = world.contact_teacher_a.staff_memberships.get()
    member.work_start, member.work_end = dt.time(10, 0), dt.time(14, 0)
    member.save()
    with time_machine.travel(at(9, 0), tick=False):
        notification = services.notify(
            recipient=world.contact_teacher_a, kind="tests.plain", dedup_key="o", payload={"n": 1}
        )
    assert [d.due_at for d in notification.deliveries.all()] == [at(10, 0)]
    assert StaffRole.objects.filter(member=member).exists()


def test_digest_holds_non_urgent_email_until_evening(guardian):
    services.preferences_save(actor=guardian, choices={}, digest=True)
    with time_machine.travel(at(9, 0), tick=False):
        plain = services.notify(
            recipient=guardian, kind="tests.plain", dedup_key="d", payload={"n": 1}
        )
        urgent = services.notify(
            recipient=guardian, kind="tests.urgent", dedup_key="u", payload={"n": 1}
        )
    held = plain.deliveries.get(channel="email")
    assert held.status == Delivery.Status.HELD
    assert held.due_at == at(18, 0)
    assert set(urgent.deliveries.values_list("status", flat=True)) == {"pending"}


def test_delivery_starts_after_commit(guardian, queued_tasks):
    from django.db import transaction

    with transaction.atomic():
        notification = services.notify(
            recipient=guardian, kind="tests.urgent", dedup_key="c", payload={"n": 1}
        )
        assert queued_tasks == []
    assert sorted(args for _, args, _ in queued_tasks) == sorted(
        (pk,) for pk in notification.deliveries.values_list("pk", flat=True)
    )


def test_nothing_is_queued_when_the_callers_transaction_rolls_back(guardian):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(recipient=guardian, kind="tests.urgent", dedup_key="r", payload={"n": 1})
        raise RuntimeError
    assert not Notification.objects.filter(dedup_key="r").exists()


def test_unknown_kind_is_refused(guardian):
    with pytest.raises(ValueError):
        services.notify(recipient=guardian, kind="nope", dedup_key="x")


# --- many at once ---------------------------------------------------------------------------


def _outgoing(users, key="m"):
    return [services.Outgoing(user, key, {"n": 1}, "/x/") for user in users]


def test_notify_many_writes_each_once_in_the_order_given(world, guardian):
    teacher = world.contact_teacher_a
    services.preferences_save(actor=guardian, choices={}, digest=True)
    first = services.notify(recipient=guardian, kind="tests.plain", dedup_key="m", payload={})
    with time_machine.travel(at(6, 0), tick=False):
        written = services.notify_many(
            kind="tests.plain", items=_outgoing([guardian, teacher, guardian]), school_id=None
        )
    assert [n.recipient for n in written] == [guardian, teacher, guardian]
    assert written[0].pk == written[2].pk == first.pk  # already there: returned as it was
    assert Notification.objects.filter(dedup_key="m").count() == 2
    # The teacher's own rules still apply: working hours from 08:00.
    assert [d.due_at for d in written[1].deliveries.all()] == [at(8, 0)]
    entry = AuditEntry.objects.get(
        action="notifications.notification.queued", object_id=str(written[1].pk)
    )
    assert entry.detail == {"kind": "tests.plain", "urgent": False, "channels": ["email"]}


def test_notify_many_costs_the_same_for_two_or_twenty(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(users, key):
        with CaptureQueriesContext(connection) as queries:
            services.notify_many(kind="tests.urgent", items=_outgoing(users, key))
        return len(queries)

    few = [factories.user(f"Few {n}", phone=f"+479100000{n}") for n in range(2)]
    many = [factories.user(f"Many {n}", phone=f"+47920000{n:02d}") for n in range(20)]
    assert cost(few, "a") == cost(many, "b")
    assert Delivery.objects.filter(notification__dedup_key="b").count() == 40


def test_notify_many_when_another_process_wrote_one_a_moment_ago(guardian, monkeypatch):
    other = factories.user("Other", phone="+4798765432")
    theirs = services.notify(recipient=guardian, kind="tests.urgent", dedup_key="race")
    manager = Notification.objects
    original = manager.filter
    missed = []

    def miss_once(*args, **kwargs):
        if not missed and "dedup_key__in" in kwargs:
            missed.append(1)  # the look-up ran before the other process committed
            return manager.none()
        return original(*args, **kwargs)

    monkeypatch.setattr(manager, "filter", miss_once)
    written = services.notify_many(kind="tests.urgent", items=_outgoing([guardian, other], "race"))
    assert missed
    assert written[0].pk == theirs.pk
    assert written[1].recipient == other
    assert Notification.objects.filter(dedup_key="race").count() == 2
    assert Delivery.objects.filter(notification=theirs).count() == 2  # not written twice


def test_given_addresses_replace_the_accounts_whatever_the_preferences(guardian):
    services.preferences_save(actor=guardian, choices={"tests.plain": set()}, digest=True)
    with time_machine.travel(at(10), tick=False):
        notification = services.notify(
            recipient=guardian,
            kind="tests.plain",
            dedup_key="typed",
            payload={"n": 1},
            to={"sms": "+47 412 34 567", "email": ""},
        )
    [delivery] = notification.deliveries.all()
    assert (delivery.channel, delivery.target) == ("sms", "+47 412 34 567")
    assert delivery.status == Delivery.Status.PENDING and not delivery.in_digest
    in_app = services.notify(
        recipient=guardian, kind="tests.urgent", dedup_key="app", payload={"n": 1}, to={}
    )
    assert not in_app.deliveries.exists()  # in the app only: not the account's e-mail or SMS
    with pytest.raises(ValueError):
        services.notify(recipient=guardian, kind="tests.plain", dedup_key="p", to={"push": "1"})
