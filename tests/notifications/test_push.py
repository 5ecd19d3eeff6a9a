"""Web push end to end on the server side: the outbox, pywebpush and a push service.

The push service is ``PushReceiver`` (tests/notifications/push_receiver.py), a real HTTP
server on localhost that verifies the VAPID signature and decrypts each push with the
subscription's keys, as a browser's push service and the browser would.
"""

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications import delivery, kinds, services, vapid
from kontaktbok.notifications.models import Channel, Delivery, Notification, PushSubscription
from tests import factories
from tests.notifications.push_receiver import PushReceiver, Subscription

Status = Delivery.Status

# Strings from the catalogue that have a Nynorsk translation, so that the test can tell
# which language a push was rendered in.
PUSH_KIND = kinds.Kind(
    code="tests.push",
    label="Push test",
    title=_("Hello, %(name)s"),
    body=_("Overview of %(school)s"),
)
URGENT_KIND = kinds.Kind(
    code="tests.push_urgent",
    label="Urgent push test",
    title=_("Hello, %(name)s"),
    body=_("Overview of %(school)s"),
    urgent=True,
)
PAYLOAD = {"name": "Kari", "school": "Vassenden skule"}


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    with PushReceiver(vapid_public_key=vapid.public_key()).running() as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def _kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test kinds exist only during each test (the settings page lists every kind)."""
    for kind in (PUSH_KIND, URGENT_KIND):
        monkeypatch.setitem(kinds.KINDS, kind.code, kind)


def subscribe(user: Any, subscription: Subscription, device: str = "test") -> PushSubscription:
    return services.push_subscription_save(
        actor=user,
        endpoint=subscription.endpoint,
        p256dh=subscription.p256dh,
        auth=subscription.auth,
        device=device,
    )


def notify(user: Any, kind: str = PUSH_KIND.code, key: str = "one", **extra: Any) -> Notification:
    """Notify and run the deliveries that ``notify`` starts when its transaction commits."""
    with translation.override("en"):  # the request's language must not matter
        return services.notify(
            recipient=user,
            kind=kind,
            dedup_key=key,
            payload=PAYLOAD,
            url="/notifications/",
            **extra,
        )


def rendered(kind: kinds.Kind, language: str) -> tuple[str, str]:
    with translation.override(language):
        return str(kind.title) % PAYLOAD, str(kind.body) % PAYLOAD


def push_delivery(notification: Notification) -> Delivery:
    return notification.deliveries.get(channel=Channel.PUSH)


@pytest.mark.parametrize("language", ["", "nn", "en"])
def test_a_notification_reaches_the_device_once_signed_encrypted_in_its_language(
    db: None,
    receiver: PushReceiver,
    django_capture_on_commit_callbacks: Any,
    language: str,
) -> None:
    user = factories.user()
    user.language = language
    user.save(update_fields=["language"])
    device = receiver.subscription()
    subscription = subscribe(user, device)

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user)

    assert receiver.rejected == []
    [push] = receiver.pushes
    assert push.endpoint == device.endpoint
    title, body = rendered(PUSH_KIND, language or settings.LANGUAGE_CODE)
    assert push.payload == {
        "title": title,
        "body": body,
        "url": settings.SITE_URL.rstrip("/") + "/notifications/",
        "tag": f"notification-{notification.pk}",
    }
    # The test tells the languages apart: Nynorsk (the default) is not English.
    assert rendered(PUSH_KIND, "nn") != rendered(PUSH_KIND, "en")
    assert push.claims["sub"] == settings.VAPID_SUBJECT
    assert push.ttl == 3600

    row = push_delivery(notification)
    assert row.target == str(subscription.pk)
    assert row.status == Status.DELIVERED
    assert row.attempts == 1
    assert row.provider_answer == "201"
    assert row.delivered_at is not None

    # Once: running the row again, or notifying with the same key, sends nothing more.
    assert delivery.deliver(row.pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(user).pk == notification.pk
    assert row.pk not in delivery.sweep()
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("queued_tasks")  # the test runs the worker itself
def test_an_urgent_notification_is_pushed_with_a_short_ttl(
    db: None, receiver: PushReceiver
) -> None:
    user = factories.user()
    device = receiver.subscription()
    subscribe(user, device)

    notification = notify(user, kind=URGENT_KIND.code)
    assert delivery.deliver(push_delivery(notification).pk) == Status.DELIVERED

    assert receiver.rejected == []
    [push] = receiver.pushes_to(device)
    assert push.ttl == 600
    assert push.payload["title"] == rendered(URGENT_KIND, "nn")[0]


@pytest.mark.usefixtures("queued_tasks")  # the test runs the worker itself
@pytest.mark.parametrize("gone", [404, 410])
def test_a_device_that_is_gone_fails_for_good_and_is_forgotten(
    db: None, receiver: PushReceiver, gone: int
) -> None:
    user = factories.user()
    device = receiver.subscription()
    subscribe(user, device)
    receiver.answer(device, gone)

    notification = notify(user)
    row = push_delivery(notification)
    assert delivery.deliver(row.pk) == Status.FAILED

    assert receiver.rejected == []
    assert [push.status for push in receiver.requests] == [gone]
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 1
    assert row.provider_answer.startswith(f"{gone}")
    assert row.delivered_at is None
    assert not PushSubscription.objects.filter(endpoint=device.endpoint).exists()

    # No retry, and the next notification has no push delivery at all.
    assert row.pk not in delivery.sweep()
    assert delivery.deliver(row.pk) is None
    later = notify(user, key="two")
    assert not later.deliveries.filter(channel=Channel.PUSH).exists()
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("queued_tasks")  # the test runs the worker itself
@pytest.mark.parametrize("trouble", [500, 503, 429])
def test_a_push_service_in_trouble_is_tried_again_later(
    db: None, receiver: PushReceiver, trouble: int
) -> None:
    user = factories.user()
    device = receiver.subscription()
    subscription = subscribe(user, device)
    receiver.answer(device, trouble)

    notification = notify(user)
    row = push_delivery(notification)
    first_due = row.due_at
    assert delivery.deliver(row.pk) == Status.PENDING

    assert receiver.rejected == []
    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert row.provider_answer.startswith("try 1:")
    assert str(trouble) in row.provider_answer
    assert row.due_at > first_due
    assert row.due_at >= dt.datetime.now(tz=dt.UTC) + services.backoff(1) - dt.timedelta(seconds=5)
    assert PushSubscription.objects.filter(pk=subscription.pk).exists()
    # Not due yet: the sweep leaves it, and a worker cannot claim it.
    assert row.pk not in delivery.sweep()
    assert delivery.deliver(row.pk) is None

    # After the back-off the sweep hands it out again, and this time it arrives.
    with time_machine.travel(row.due_at + dt.timedelta(seconds=1), tick=True):
        assert row.pk in delivery.sweep()
        assert delivery.deliver(row.pk) == Status.DELIVERED
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.provider_answer == "201"
    assert [push.status for push in receiver.requests] == [trouble, 201]
    assert receiver.rejected == []


def test_a_push_address_is_checked_again_before_each_send(
    db: None, receiver: PushReceiver, settings: Any
) -> None:
    """Subscribed while its host was allowed; no longer a push service when the push is
    sent (the host list changed, or the name now points elsewhere): nothing is posted, and
    the subscription is dropped."""
    user = factories.user()
    subscription = subscribe(user, receiver.subscription())
    settings.PUSH_HTTP_HOSTS = []
    row = push_delivery(notify(user))  # notify runs the deliveries it starts
    assert row.status == Status.FAILED
    assert "not a known push service" in row.provider_answer
    assert receiver.requests == []
    assert not PushSubscription.objects.filter(pk=subscription.pk).exists()


def test_a_user_with_two_devices_gets_one_push_on_each(
    db: None, receiver: PushReceiver, django_capture_on_commit_callbacks: Any
) -> None:
    user, other = factories.user(), factories.user()
    phone, laptop, someone_elses = (receiver.subscription() for _ in range(3))
    subscribe(user, phone, "phone")
    subscribe(user, laptop, "laptop")
    subscribe(other, someone_elses)

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user)

    # Each push decrypted with its own device's keys, so each was encrypted for that device.
    assert receiver.rejected == []
    assert len(receiver.pushes_to(phone)) == 1
    assert len(receiver.pushes_to(laptop)) == 1
    assert receiver.pushes_to(someone_elses) == []
    assert len(receiver.requests) == 2
    rows = notification.deliveries.filter(channel=Channel.PUSH)
    assert sorted(rows.values_list("status", flat=True)) == [Status.DELIVERED] * 2
    assert {push.payload["tag"] for push in receiver.pushes} == {f"notification-{notification.pk}"}


def test_the_service_worker_shows_pushes_and_opens_them(client: Any) -> None:
    response = client.get("/service-worker.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    script = response.content.decode()
    assert "addEventListener('push'" in script
    assert "showNotification(" in script
    assert "addEventListener('notificationclick'" in script
    assert "openWindow(" in script
    # It reads every field the server puts in a push.
    for key in ("title", "body", "url", "tag"):
        assert f"data.{key}" in script


def test_the_receiver_rejects_what_a_push_service_would_reject(receiver: PushReceiver) -> None:
    """The checker itself: each broken rule is refused with its reason, a good push is not."""
    import requests
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    device, stranger = receiver.subscription(), receiver.subscription()
    app_key = vapid.private_key_path()
    subject = {"sub": settings.VAPID_SUBJECT}

    def send(info: dict, key: Any = app_key, claims: dict = subject, **options: Any) -> int:
        try:
            return webpush(
                info,
                data='{"title": "t", "body": "b", "url": "/", "tag": "x"}',
                vapid_private_key=key,
                vapid_claims=dict(claims),
                ttl=60,
                timeout=5,
                **options,
            ).status_code
        except WebPushException as exc:
            return exc.response.status_code

    assert send(device.to_json()) == 201
    assert receiver.rejected == []

    other_key = Vapid()
    other_key.generate_keys()
    lax_app_key = Vapid.from_file(app_key)
    lax_app_key.conf["no-strict"] = True  # py_vapid itself refuses a bad ``sub``
    wrong_keys = {**device.to_json(), "keys": stranger.to_json()["keys"]}
    tomorrow = int(time.time()) + 2 * 24 * 3600
    cases = {
        "not the application's VAPID public key": send(device.to_json(), key=other_key),
        "aud=": send(device.to_json(), claims={**subject, "aud": "https://push.example"}),
        "exp=": send(device.to_json(), claims={**subject, "exp": tomorrow}),
        "sub=": send(device.to_json(), key=lax_app_key, claims={"sub": "someone"}),
        "decryption failed": send(wrong_keys),
        "Content-Encoding is": send(device.to_json(), content_encoding="aesgcm"),
        "Authorization is not": requests.post(device.endpoint, data=b"{}", timeout=5).status_code,
    }
    assert set(cases.values()) == {400}
    assert len(receiver.rejected) == len(cases)
    for reason, rejection in zip(cases, receiver.rejected, strict=True):
        assert reason in rejection
    assert len(receiver.pushes) == 1


@pytest.mark.usefixtures("queued_tasks")  # the test runs the worker itself
def test_a_device_turned_off_gets_nothing_more(db: None, receiver: PushReceiver) -> None:
    user = factories.user()
    device = receiver.subscription()
    subscribe(user, device)
    row = push_delivery(notify(user))

    assert services.push_subscription_delete(actor=user, endpoint=device.endpoint)
    assert delivery.deliver(row.pk) == Status.FAILED

    row.refresh_from_db()
    assert row.provider_answer == "the device has turned push off"
    assert receiver.requests == []
    assert receiver.rejected == []


@pytest.mark.usefixtures("queued_tasks")  # the test runs the worker itself
def test_a_device_taken_over_by_another_user_gets_nothing_meant_for_the_first(
    db: None, receiver: PushReceiver
) -> None:
    """A shared tablet: A turns push on, then B logs in there and turns it on (same endpoint).

    What was queued for A (waiting for the sending window, or for a retry) must not be pushed
    to the device now registered to B.
    """
    first, second = factories.user(), factories.user()
    tablet = receiver.subscription()
    subscribe(first, tablet)
    row = push_delivery(notify(first))
    subscribe(second, tablet)
    assert PushSubscription.objects.get(endpoint=tablet.endpoint).user == second

    delivery.deliver(row.pk)

    assert receiver.requests == []
    row.refresh_from_db()
    assert row.status != Status.DELIVERED
