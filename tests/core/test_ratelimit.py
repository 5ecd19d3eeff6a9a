"""Named rate limits: over a bucket's rate a page answers 429 with Retry-After and a message
in the person's language, the API the same in its error shape, and nothing is stored."""

import datetime as dt
import math
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from kontaktbok.absence.models import AbsenceReport
from kontaktbok.core import ratelimit
from kontaktbok.messaging.models import Thread
from kontaktbok.notifications.models import PushSubscription

TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
def limits(settings):
    def set_limit(bucket: str, spec: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, bucket: spec}

    return set_limit


def signed_in(user, *, language: str = "nn", address: str = "192.0.2.10") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.cookies["kontaktbok_language"] = language
    client.force_login(user)
    return client


def report_form(world, day: dt.date) -> dict:
    return {
        "start_date": day.isoformat(),
        "end_date": day.isoformat(),
        "day_part": "whole",
        "absence_type": world.school.absence_types.get(code="sick").pk,
        "comment": "",
        "idempotency_key": uuid.uuid4().hex,
    }


def test_rates_are_read_as_amount_period_and_whom():
    assert ratelimit.parse("20/h/user, 300/10m/ip") == [
        ratelimit.Rate(20, 3600, "user"),
        ratelimit.Rate(300, 600, "ip"),
    ]
    for bad in ("20/h", "20/h/everyone", "0/h/user", "x/h/user", "20/w/user"):
        with pytest.raises((ValueError, KeyError)):
            ratelimit.parse(bad)


def test_the_defaults_are_all_readable(settings):
    for bucket in settings.RATE_LIMITS:
        assert ratelimit.rates(bucket)


def test_absence_reports_over_the_limit_are_refused_with_429_and_nothing_stored(world, limits):
    limits("absence.report", "2/h/user")
    client = signed_in(world.guardian_a)
    url = reverse("absence_report_create", args=[world.child_a.pk])
    for day in (TUESDAY, TUESDAY + dt.timedelta(days=1)):
        assert client.post(url, report_form(world, day)).status_code == 302
    refused = client.post(url, report_form(world, TUESDAY + dt.timedelta(days=2)))
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert "Prøv igjen om" in page  # Nynorsk, the default
    assert AbsenceReport.objects.count() == 2
    assert client.get(url).status_code == 200  # reading is never limited
    # Another family is not held back by this one.
    other = signed_in(world.guardian_b)
    url_b = reverse("absence_report_create", args=[world.child_b.pk])
    assert other.post(url_b, report_form(world, TUESDAY)).status_code == 302
    # The window passes.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), tick=False):
        again = client.post(url, report_form(world, TUESDAY + dt.timedelta(days=2)))
    assert again.status_code == 302


def test_the_address_limit_counts_every_user_from_one_address(world, limits, settings):
    limits("messages.send", "100/h/user,2/h/ip")
    settings.TRUSTED_PROXY_COUNT = 1

    def send(user, pupil, forwarded: str) -> int:
        client = signed_in(user, address="10.0.0.1")  # the proxy
        url = reverse("messaging_compose", kwargs={"pupil_id": pupil.pk})
        data = {
            "recipients": ["contact_teacher"],
            "subject": "Gymtøy",
            "body": "Anna har gløymt gymtøyet.",
            "idempotency_key": uuid.uuid4().hex,
        }
        return client.post(url, data, headers={"X-Forwarded-For": forwarded}).status_code

    assert send(world.guardian_a, world.child_a, "198.51.100.7") == 302
    assert send(world.guardian_b, world.child_b, "198.51.100.7") == 302
    assert send(world.guardian_a, world.child_a, "198.51.100.7") == 429
    # A client that claims another address in front of the real one is read from the right.
    assert send(world.guardian_b, world.child_b, "203.0.113.9, 198.51.100.7") == 429
    assert send(world.guardian_a, world.child_a, "203.0.113.9") == 302
    assert Thread.objects.count() == 3


def test_a_push_subscription_over_the_limit_answers_json_in_the_users_language(world, limits):
    limits("push.subscribe", "1/h/user")
    client = signed_in(world.guardian_a, language="en")
    data = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "p256dh": "a", "auth": "b"}
    assert client.post(reverse("push_subscribe"), data).status_code == 200
    data["endpoint"] += "d"
    refused = client.post(reverse("push_subscribe"), data)
    assert refused.status_code == 429
    minutes = math.ceil(int(refused["Retry-After"]) / 60)
    assert refused.json() == {
        "ok": False,
        "errors": {
            "__all__": [
                "You have done this many times in a short while. "
                f"Try again in {minutes} minute{'s' if minutes > 1 else ''}."
            ]
        },
    }
    assert PushSubscription.objects.count() == 1


def test_api_writes_over_the_limit_answer_429_in_the_documented_shape(world, limits):
    limits("absence.report", "1/h/user")
    limits("api.write", "2/h/user")
    client = signed_in(world.guardian_a, language="en")

    def post(day: dt.date):
        body = {
            "pupil_id": world.child_a.pk,
            "start_date": day.isoformat(),
            "end_date": day.isoformat(),
            "absence_type": "sick",
        }
        return client.post("/api/v1/absence/reports", body, content_type="application/json")

    assert post(TUESDAY).status_code == 201
    refused = post(TUESDAY + dt.timedelta(days=1))
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert refused.json()["detail"][0]["type"] == "throttled"
    assert AbsenceReport.objects.count() == 1
    # Reading does not count; every other write counts against api.write.
    for _ in range(5):
        assert client.get("/api/v1/absence/reports").status_code == 200
    [report] = AbsenceReport.objects.all()
    patch = client.patch(
        f"/api/v1/absence/reports/{report.pk}", {"comment": "Feber"}, "application/json"
    )
    assert patch.status_code == 429  # the third write this hour
    assert int(patch["Retry-After"]) > 0
