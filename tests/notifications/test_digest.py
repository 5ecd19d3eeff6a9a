"""The daily digest over a real SMTP server (aiosmtpd): one e-mail, one delivery, audited;
a failed try or a dead worker never turns it into single e-mails."""

import datetime as dt
import email
import email.policy
import socket

import pytest
import time_machine
from aiosmtpd.controller import Controller

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications import delivery, digest, services
from kontaktbok.notifications.models import Delivery
from tests import factories
from tests.conftest import _SmtpSink

pytestmark = pytest.mark.usefixtures("queued_tasks")

NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=clock.SCHOOL_TZ)
EVENING = NOON + dt.timedelta(hours=6, minutes=5)


@pytest.fixture
def held(db):
    """Two non-urgent e-mails held for the 18:00 digest of a person who chose it."""
    user = factories.user("Kari Nordmann", phone="+47 912 34 567")
    services.preferences_save(actor=user, choices={}, digest=True)
    with time_machine.travel(NOON, tick=False):
        for n in (1, 2):
            services.notify(recipient=user, kind="tests.plain", dedup_key=f"d{n}", payload={"n": n})
    rows = Delivery.objects.filter(notification__recipient=user, channel="email")
    assert {(row.status, row.in_digest) for row in rows} == {("held", True)}
    return user


def statuses() -> set[str]:
    return set(Delivery.objects.filter(channel="email").values_list("status", flat=True))


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.content, policy=email.policy.default)


@pytest.fixture
def smtp_down(settings):
    """Point the mailer at a port nobody listens on (a real refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }


def test_the_digest_is_one_email_with_everything_held_and_one_audit_entry(held, smtp_server):
    with time_machine.travel(NOON, tick=False):
        assert digest.send_due_digests() == 0  # not before 18:00
    with time_machine.travel(EVENING, tick=False):
        assert digest.send_due_digests() == 1
        assert digest.send_due_digests() == 0
    [message] = smtp_server.messages
    body = parsed(message).get_payload(decode=True)
    assert b"Plain 1" in body and b"Plain 2" in body
    assert statuses() == {"delivered"}
    [entry] = AuditEntry.objects.filter(action__startswith="notifications.digest")
    assert entry.action == "notifications.digest.delivered"
    rows = sorted(Delivery.objects.filter(channel="email").values_list("pk", flat=True))
    assert sorted(entry.detail["deliveries"]) == rows
    assert entry.detail["recipient"] == held.pk


def test_a_failed_send_waits_and_the_next_try_is_the_same_digest(held, settings, smtp_down):
    with time_machine.travel(EVENING, tick=False):
        assert digest.send_due_digests() == 0
    rows = list(Delivery.objects.filter(channel="email"))
    assert {(row.status, row.attempts) for row in rows} == {("held", 1)}
    assert all(row.due_at == EVENING + dt.timedelta(seconds=30) for row in rows)
    assert not AuditEntry.objects.filter(action__startswith="notifications.digest").exists()
    # The sweep leaves them to the digest: no single e-mails.
    with time_machine.travel(EVENING + dt.timedelta(minutes=5), tick=False):
        assert delivery.sweep() == []
    # A real server on that port again for the next try.
    port = settings.MAILERS["default"]["OPTIONS"]["port"]
    sink = _SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with time_machine.travel(EVENING + dt.timedelta(minutes=5), tick=False):
            assert digest.send_due_digests() == 1
    finally:
        controller.stop()
    [message] = sink.messages
    assert b"Plain 1" in message.content and b"Plain 2" in message.content
    assert statuses() == {"delivered"}


def test_a_worker_dying_mid_digest_leaves_it_to_the_digest_with_the_same_message_id(
    held, settings, smtp_server
):
    """The worker claimed the rows and died: after the lease the sweep hands them back to
    the digest, which sends one e-mail, with the Message-ID the first try would have had."""
    settings.DELIVERY_LEASE_SECONDS = 300
    rows = list(Delivery.objects.filter(channel="email").order_by("pk"))
    expected_id = digest.message_id(rows)
    with time_machine.travel(EVENING, tick=False):
        Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(
            status="sending", claimed_at=clock.now(), attempts=1
        )
    with time_machine.travel(EVENING + dt.timedelta(seconds=299), tick=False):
        assert delivery.sweep() == []
        assert statuses() == {"sending"}
    with time_machine.travel(EVENING + dt.timedelta(seconds=301), tick=False):
        assert delivery.sweep() == []
        assert statuses() == {"held"}
        assert digest.send_due_digests() == 1
    [message] = smtp_server.messages
    assert parsed(message)["Message-ID"] == expected_id
    assert statuses() == {"delivered"}


def test_an_address_that_cannot_receive_fails_the_digest_once_audited(held, smtp_server):
    held.email = "not-an-address"
    held.save()
    Delivery.objects.filter(channel="email").update(target="not-an-address")
    with time_machine.travel(EVENING, tick=False):
        assert digest.send_due_digests() == 0
    assert statuses() == {"failed"}
    assert smtp_server.messages == []
    [entry] = AuditEntry.objects.filter(action__startswith="notifications.digest")
    assert entry.action == "notifications.digest.failed"
    assert entry.detail["answer"] == "invalid e-mail address"
