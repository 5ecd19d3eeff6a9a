"""Delivery over real receivers: an SMTP server (aiosmtpd) and a local HTTP SMS gateway.
Retries, permanent failures, other channels, the lease and the sweep."""

import datetime as dt
import email
import email.policy

import pytest
import time_machine
from django.test import Client

from kontaktbok.core import clock
from kontaktbok.notifications import delivery, services
from kontaktbok.notifications.models import Delivery, SinkMessage
from kontaktbok.schools import services as school_services
from tests import factories

# These tests run the delivery worker themselves: queued tasks are recorded, not run.
pytestmark = pytest.mark.usefixtures("queued_tasks")


def notify(user, key="k", kind="tests.urgent", **extra):
    return services.notify(recipient=user, kind=kind, dedup_key=key, payload={"n": 7}, **extra)


def run_all(notification):
    for item in notification.deliveries.all():
        delivery.deliver(item.pk)
    return {d.channel: d for d in notification.deliveries.all()}


@pytest.fixture
def user(db):
    return factories.user("Kari Nordmann", phone="+47 912 34 567")


def test_email_reaches_a_real_smtp_server_in_the_recipients_language(user, smtp_server):
    user.language = "en"
    user.save()
    result = run_all(notify(user, kind="notifications.test", url="/notifications/"))
    assert result["email"].status == Delivery.Status.DELIVERED
    assert result["email"].delivered_at is not None
    assert len(smtp_server.messages) == 1
    message = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    assert message["Subject"] == "Test from kontaktbok"
    assert (
        message["Message-ID"] == f"<delivery-{result['email'].pk}."
        f"notification-{result['email'].notification_id}@kontaktbok>"
    )
    body = message.get_payload(decode=True).decode()
    assert "http://127.0.0.1:8000/notifications/" in body


def test_email_in_nynorsk_by_default(user, smtp_server):
    run_all(notify(user, kind="notifications.test"))
    message = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    assert message["Subject"] == "Test frå kontaktbok"


def test_sms_reaches_the_gateway_with_reference_and_credentials(user, sms_gateway):
    result = run_all(notify(user))
    assert result["sms"].status == Delivery.Status.DELIVERED
    [sms] = sms_gateway.received
    assert sms["body"]["to"] == "+4791234567"
    assert sms["body"]["from"] == "kontaktbok"
    assert sms["body"]["text"].startswith("Urgent 7: Body 7")
    assert sms["key"] == f"delivery-{result['sms'].pk}"
    assert sms["auth"].startswith("Basic ")


def test_gateway_down_retries_with_backoff_then_fails_and_email_still_goes(
    user, sms_gateway, smtp_server, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    sms_gateway.answers = [503, 503, 503]
    notification = notify(user)
    result = run_all(notification)
    assert result["email"].status == Delivery.Status.DELIVERED
    sms = result["sms"]
    assert sms.status == Delivery.Status.PENDING
    assert sms.attempts == 1
    assert sms.due_at > clock.now()
    assert delivery.deliver(sms.pk) is None  # not due yet: nobody may take it
    for attempt in (2, 3):
        with time_machine.travel(clock.now() + dt.timedelta(hours=attempt), tick=False):
            delivery.deliver(sms.pk)
        sms.refresh_from_db()
        assert sms.attempts == attempt
    assert sms.status == Delivery.Status.FAILED
    assert "gave up" in sms.provider_answer
    assert len(sms_gateway.received) == 3
    assert len(smtp_server.messages) == 1


def test_gateway_error_then_success(user, sms_gateway):
    sms_gateway.answers = [500]
    sms = run_all(notify(user))["sms"]
    assert sms.status == Delivery.Status.PENDING
    with time_machine.travel(clock.now() + dt.timedelta(minutes=1), tick=False):
        assert delivery.deliver(sms.pk) == Delivery.Status.DELIVERED
    assert [r["key"] for r in sms_gateway.received] == [f"delivery-{sms.pk}"] * 2


@pytest.mark.parametrize("phone", ["123", "not a number", "+47 12"])
def test_invalid_phone_number_fails_with_reason_without_a_request(db, sms_gateway, phone):
    user = factories.user("Feil Nummer", phone=phone)
    sms = run_all(notify(user))["sms"]
    assert sms.status == Delivery.Status.FAILED
    assert sms.provider_answer == "invalid phone number"
    assert sms_gateway.received == []


def test_invalid_email_address_fails_with_reason(user, smtp_server):
    Delivery.objects.all().delete()
    notification = notify(user, key="bad")
    Delivery.objects.filter(notification=notification, channel="email").update(
        target="not-an-address"
    )
    result = run_all(notification)
    assert result["email"].status == Delivery.Status.FAILED
    assert result["email"].provider_answer == "invalid e-mail address"
    assert smtp_server.messages == []


def test_rejected_by_the_gateway_is_permanent(user, sms_gateway):
    sms_gateway.answers = [422]
    sms = run_all(notify(user))["sms"]
    assert sms.status == Delivery.Status.FAILED
    assert sms.attempts == 1


def test_a_delivery_is_sent_once_however_often_it_is_run(user, sms_gateway):
    sms = notify(user).deliveries.get(channel="sms")
    results = [delivery.deliver(sms.pk) for _ in range(3)]
    assert results == ["delivered", None, None]
    assert len(sms_gateway.received) == 1


def test_sweep_hands_back_what_a_dead_worker_left(user, sms_gateway, settings):
    settings.DELIVERY_LEASE_SECONDS = 60
    sms = notify(user).deliveries.get(channel="sms")
    assert delivery.claim(sms.pk) is not None  # a worker took it, then died
    assert sms.pk not in delivery.sweep()  # the lease still holds
    with time_machine.travel(clock.now() + dt.timedelta(seconds=61), tick=False):
        assert sms.pk in delivery.sweep()
        assert delivery.deliver(sms.pk) == "delivered"
    sms.refresh_from_db()
    assert sms.attempts == 2
    assert len(sms_gateway.received) == 1


def test_a_late_finish_by_a_worker_whose_lease_ran_out_is_ignored(user, sms_gateway):
    sms = notify(user).deliveries.get(channel="sms")
    first_claim = delivery.claim(sms.pk)
    Delivery.objects.filter(pk=sms.pk).update(status="pending", claimed_at=None)  # swept
    assert delivery.deliver(sms.pk) == "delivered"  # the second worker
    item = Delivery.objects.get(pk=sms.pk)
    assert delivery._finish(item, first_claim, "failed", "late") is None
    assert Delivery.objects.get(pk=sms.pk).status == "delivered"


def test_without_gateways_the_demo_sink_keeps_email_and_sms(world, settings):
    settings.MAILERS = {"default": {"BACKEND": "kontaktbok.notifications.sink.EmailBackend"}}
    settings.SMS_GATEWAY = "sink"
    guardian = world.guardian_a
    guardian.phone = "91234567"
    guardian.save()
    run_all(notify(guardian, school_id=world.school.pk))
    kept = SinkMessage.objects.order_by("channel")
    assert [(m.channel, m.to) for m in kept] == [("email", guardian.email), ("sms", "+4791234567")]
    client = Client()
    client.force_login(world.school_admin)
    page = client.get("/notifications/sink/").content.decode()
    assert guardian.email in page and "+4791234567" in page
    client.force_login(world.office)
    assert client.get("/notifications/sink/").status_code == 404


def test_the_sink_shows_a_school_only_what_that_school_sent(world, settings):
    """Guardian A has a child at school B too: what school B sends them is not filed under
    school A, whose admin would otherwise read what another school wrote to the family."""
    settings.MAILERS = {"default": {"BACKEND": "kontaktbok.notifications.sink.EmailBackend"}}
    settings.SMS_GATEWAY = "sink"
    school_services.guardianship_set(actor=None, guardian=world.guardian_a, pupil=world.other_child)
    world.guardian_a.phone = "91234567"
    world.guardian_a.save()
    run_all(notify(world.guardian_a, school_id=world.other_school.pk))
    assert {m.schools for m in SinkMessage.objects.all()} == {f",{world.other_school.pk},"}
    client = Client()
    client.force_login(world.school_admin)
    page = client.get("/notifications/sink/").content.decode()
    assert world.guardian_a.email not in page and "+4791234567" not in page


def test_the_sink_pages_through_everything_sent(world):
    """Thirty to a page; the 31st is one link away."""
    SinkMessage.objects.bulk_create(
        SinkMessage(
            channel="sms",
            to=f"+479{n:07d}",
            body=f"Melding {n}",
            schools=f",{world.school.pk},",
            created_at=clock.now() - dt.timedelta(minutes=n),
        )
        for n in range(31)
    )
    client = Client()
    client.force_login(world.school_admin)
    client.cookies["kontaktbok_language"] = "en"
    first = client.get("/notifications/sink/").content.decode()
    assert "Melding 0<" in first and "Melding 30<" not in first
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = client.get("/notifications/sink/?page=2").content.decode()
    assert "Melding 30<" in second and "Melding 0<" not in second
    assert 'href="?page=1"' in second


def test_account_emails_never_reach_a_readable_list(
    world, settings, django_capture_on_commit_callbacks
):
    """A password reset link read by a school admin would hand them the guardian's account:
    kept by the sink, but filed under no school."""
    settings.MAILERS = {"default": {"BACKEND": "kontaktbok.notifications.sink.EmailBackend"}}
    settings.TASKS = {"default": {"BACKEND": "tests.tasks.AfterCommitBackend"}}  # sent at once
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password/reset/", {"email": world.guardian_a.email})
    assert response.status_code == 302
    kept = SinkMessage.objects.get(to=world.guardian_a.email)
    assert "/accounts/password/reset/key/" in kept.body
    assert kept.schools == ""
    for admin in (world.school_admin, world.office):
        client = Client()
        client.force_login(admin)
        page = client.get("/notifications/sink/")
        assert "/accounts/password/reset/key/" not in page.content.decode()


def test_without_the_demo_there_is_no_sink(world, settings):
    settings.DEMO = False
    settings.SMS_GATEWAY = "none"
    client = Client()
    client.force_login(world.school_admin)
    assert client.get("/notifications/sink/").status_code == 404
    assert "/notifications/sink/" not in client.get("/").content.decode()
    world.guardian_a.phone = "91234567"
    world.guardian_a.save()
    sms = run_all(notify(world.guardian_a, school_id=world.school.pk))["sms"]
    assert sms.status == "failed"
    assert "no SMS gateway" in sms.provider_answer
    assert not SinkMessage.objects.exists()


def test_failed_deliveries_are_shown_to_the_school_admin(world, sms_gateway):
    guardian = world.guardian_a
    guardian.phone = "123"
    guardian.save()
    run_all(notify(guardian, school_id=world.school.pk))
    client = Client()
    client.force_login(world.school_admin)
    page = client.get("/notifications/failed/")
    assert page.status_code == 200
    assert "invalid phone number" in page.content.decode()
    assert guardian.full_name in page.content.decode()


def test_scheduler_runs_the_sweep_every_minute(db):
    from kontaktbok.core import scheduler

    names = {p.task.name: p.every_minutes for p in scheduler.registered()}
    assert names["sweep_deliveries"] == 1
    assert names["send_digests"] == 5


def test_sweep_does_not_queue_a_row_twice_while_its_task_waits(user, settings):
    settings.DELIVERY_LEASE_SECONDS = 300
    sms = notify(user).deliveries.get(channel="sms")
    Delivery.objects.filter(pk=sms.pk).update(status="pending", queued_at=None)
    assert sms.pk in delivery.sweep()
    assert sms.pk not in delivery.sweep()  # its task is on the queue
    with time_machine.travel(clock.now() + dt.timedelta(seconds=301), tick=False):
        assert sms.pk in delivery.sweep()  # that task seems lost: queue another


def test_an_urgent_row_whose_task_was_lost_waits_a_minute_not_the_lease(
    user, settings, queued_tasks
):
    """The row is marked queued in its transaction and its task sent after the commit; a
    crash in between (here: the recorded task is never run) must not hold a missing-pupil
    alert for the whole lease."""
    settings.DELIVERY_LEASE_SECONDS = 300
    settings.DELIVERY_URGENT_REQUEUE_SECONDS = 60
    urgent = notify(user).deliveries.all()
    plain = notify(user, key="p", kind="tests.plain").deliveries.get(channel="email")
    assert plain.queued_at is not None and all(row.queued_at for row in urgent)
    with time_machine.travel(clock.now() + dt.timedelta(seconds=59), tick=False):
        assert delivery.sweep() == []
    with time_machine.travel(clock.now() + dt.timedelta(seconds=61), tick=False):
        # the plain one waits for the lease
        assert sorted(delivery.sweep()) == sorted(row.pk for row in urgent)
        sms = urgent.get(channel="sms")
        assert delivery.deliver(sms.pk) == "delivered"


def test_a_short_lease_is_warned_about(settings):
    from kontaktbok.notifications.checks import lease_outlasts_a_send

    settings.DELIVERY_LEASE_SECONDS = 15
    assert [w.id for w in lease_outlasts_a_send(None)] == ["kontaktbok.W001"]
    settings.DELIVERY_LEASE_SECONDS = 300
    assert lease_outlasts_a_send(None) == []
