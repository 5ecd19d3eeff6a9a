"""In-app notifications and the notification settings page."""

from django.test import Client
from django.urls import reverse

from kontaktbok.notifications import services
from kontaktbok.notifications.models import (
    DigestChoice,
    Notification,
    Preference,
    PushSubscription,
)
from tests import factories
from tests.query_counts import assert_same_count, counted


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_inbox_lists_own_notifications_with_unread_count(db):
    user, other = factories.user("Eg"), factories.user("Annan")
    for n in range(3):
        services.notify(recipient=user, kind="tests.plain", dedup_key=f"k{n}", payload={"n": n})
    services.notify(recipient=other, kind="tests.plain", dedup_key="x", payload={"n": 99})
    client = signed_in(user)
    page = client.get(reverse("notification_inbox"))
    html = page.content.decode()
    assert html.count('data-testid="notification"') == 3
    assert "Plain 99" not in html
    assert 'class="kb-count">3' in html
    badge = client.get(reverse("notification_badge")).content.decode()
    assert ">3<" in badge


def test_opening_marks_read_and_goes_to_the_link(db):
    user = factories.user("Eg")
    notification = services.notify(
        recipient=user,
        kind="tests.plain",
        dedup_key="o",
        url="/notifications/settings/",
        payload={"n": 1},
    )
    response = signed_in(user).get(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == "/notifications/settings/"
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_an_outside_link_is_never_followed(db):
    user = factories.user("Eg")
    notification = services.notify(
        recipient=user,
        kind="tests.plain",
        dedup_key="e",
        url="https://evil.example/",
        payload={"n": 1},
    )
    response = signed_in(user).get(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("notification_inbox")


def test_someone_elses_notification_is_404(db):
    owner, other = factories.user("Eigar"), factories.user("Annan")
    notification = services.notify(
        recipient=owner, kind="tests.plain", dedup_key="p", payload={"n": 1}
    )
    response = signed_in(other).get(reverse("notification_open", args=[notification.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_mark_all_read(db):
    user = factories.user("Eg")
    for n in range(2):
        services.notify(recipient=user, kind="tests.plain", dedup_key=f"m{n}", payload={"n": n})
    signed_in(user).post(reverse("notification_mark_all_read"))
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()


def test_settings_save_channels_and_digest_but_not_for_urgent_kinds(db):
    user = factories.user("Eg")
    client = signed_in(user)
    page = client.get(reverse("notification_settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="tests.urgent:sms" value="1" checked disabled' in html
    response = client.post(
        reverse("notification_settings"),
        {"tests.plain:sms": "1", "tests.urgent:email": "", "digest": "1"},
    )
    assert response.status_code == 302
    preference = Preference.objects.get(user=user, kind="tests.plain")
    assert (preference.email, preference.push, preference.sms) == (False, False, True)
    assert not Preference.objects.filter(user=user, kind="tests.urgent").exists()
    assert DigestChoice.objects.get(user=user).enabled


def test_send_test_notification_twice_in_a_minute_gives_one(db):
    user = factories.user("Eg")
    client = signed_in(user)
    client.post(reverse("notification_test"))
    client.post(reverse("notification_test"))
    assert Notification.objects.filter(recipient=user, kind="notifications.test").count() == 1


def test_push_subscription_needs_a_valid_endpoint(db):
    user = factories.user("Eg")
    response = signed_in(user).post(reverse("push_subscribe"), {"endpoint": "not a url"})
    assert response.status_code == 400
    assert not user.push_subscriptions.exists()


def test_inbox_query_count_is_flat(db):
    user = factories.user("Eg")
    url = reverse("notification_inbox")

    def notify(n: int) -> None:
        kind = "tests.urgent" if n % 3 == 0 else "tests.plain"
        services.notify(recipient=user, kind=kind, dedup_key=f"q{n}", payload={"n": n})

    for n in range(2):
        notify(n)
    client = signed_in(user)
    client.get(url)  # the session's first request saves it once
    few = counted(client, url)
    assert few.text.count('data-testid="notification"') == 2
    for n in range(2, 25):
        notify(n)
    services.notification_mark_read(actor=user, notification=Notification.objects.last())
    many = counted(client, url)
    assert many.text.count('data-testid="notification"') == 25
    assert_same_count(few, many)


def test_push_goes_only_to_the_browsers_push_services(db, settings):
    """Not to the server itself, the internal network, plain http, or a look-alike host."""
    client = signed_in(factories.user("Eg"))

    def subscribe(endpoint: str) -> int:
        data = {"endpoint": endpoint, "p256dh": "a", "auth": "b"}
        return client.post(reverse("push_subscribe"), data).status_code

    for endpoint in (
        "http://push.example.org/x",
        "https://127.0.0.1/x",
        "https://localhost:8000/x",
        "https://10.0.0.5/x",
        "https://[::1]/x",
        "http://fcm.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com.evil.example/x",
        "https://evilnotify.windows.com/x",
        "https://user@fcm.googleapis.com/x",
        "http://127.0.0.1.nip.io/x",
    ):
        assert subscribe(endpoint) == 400, endpoint
    assert not PushSubscription.objects.exists()
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://db5p.notify.windows.com/w/?token=abc",
        "https://web.push.apple.com/abc",
    ):
        assert subscribe(endpoint) == 200, endpoint
    assert PushSubscription.objects.count() == 4


def test_the_test_notification_is_not_held_for_quiet_hours(db):
    import datetime as dt

    import time_machine

    from kontaktbok.core import clock

    user = factories.user("Eg")
    late = dt.datetime(2026, 11, 24, 23, 30, tzinfo=clock.SCHOOL_TZ)
    with time_machine.travel(late, tick=False):
        signed_in(user).post(reverse("notification_test"))
        [item] = Notification.objects.get(recipient=user).deliveries.all()
        assert item.due_at == clock.now()
