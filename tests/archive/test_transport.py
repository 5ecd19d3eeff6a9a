"""Fiks IO and the archive standing in on this machine: the REST send with a Maskinporten
token, RabbitMQ with Fiks IO's header names, the archive's answers, and the failure modes."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine

from kontaktbok.archive import arkivmelding, services
from kontaktbok.archive import delivery as worker
from kontaktbok.archive.models import ArchiveDelivery, FiksMessage
from kontaktbok.notifications.models import Notification
from tests import factories
from tests.archive.conftest import deliver

State = ArchiveDelivery.State
ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate, fiks, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        fiks.consume(0.3)
        if predicate():
            return
    raise AssertionError(f"timed out; {fiks.describe()}")


def test_a_delivery_ends_registered_in_the_archive(fiks):
    citizen = factories.user("Åse", phone="+4798765432")
    unit = _unit()
    delivery = deliver(unit, notify_user=citizen)  # sends after the commit
    delivery.refresh_from_db()
    assert delivery.state == State.SENT, delivery.failure_reason
    [sent] = fiks.fiksio.sent
    assert sent["meldingType"] == arkivmelding.OPPRETT
    assert sent["headere"] == {"klientMeldingId": str(delivery.client_message_id)}
    # Fiks IO keeps no order between two answers once one has been handed back to the queue.
    _wait_for(lambda: delivery.answers.count() == 2, fiks)
    delivery.refresh_from_db()
    assert delivery.state == State.ARCHIVED
    assert delivery.journal_reference == "2026/587-1"
    assert {a.message_type for a in delivery.answers.all()} == {
        arkivmelding.MOTTATT,
        arkivmelding.KVITTERING,
    }
    assert Notification.objects.filter(recipient=citizen, kind="archive.archived").exists()
    assert fiks.journal.count() == 1


def test_a_token_endpoint_refuses_a_stranger(fiks, settings):
    from kontaktbok.archive import fiksio

    settings.MASKINPORTEN_CLIENT_ID = "someone-else"
    fiksio.forget_token()
    with pytest.raises(RuntimeError, match="Maskinporten: 400"):
        fiksio.token()


def _unit():
    from kontaktbok.archive.models import ArchiveUnit

    return ArchiveUnit.objects.get()


def test_invalid_xml_gets_ugyldigforespoersel_and_fails(fiks, monkeypatch):
    real_build = arkivmelding.build

    def broken(entry):
        real_build(entry)  # checked as the service does, then spoilt on the way out
        return b"<arkivmelding xmlns='" + arkivmelding.NS.encode() + b"'><system/></arkivmelding>"

    monkeypatch.setattr(arkivmelding, "build", broken)
    delivery = deliver(_unit())
    _wait_for(lambda: ArchiveDelivery.objects.get(pk=delivery.pk).state == State.FAILED, fiks)
    delivery.refresh_from_db()
    assert arkivmelding.UGYLDIG in delivery.failure_reason
    assert not delivery.answers.filter(message_type=arkivmelding.MOTTATT).exists()
    assert Notification.objects.filter(kind="archive.delivery_failed").count() == 1
    assert fiks.journal.count() == 0


def test_serverfeil_from_the_archive_fails_and_alerts(fiks):
    fiks.archive.mode = "serverfeil"
    delivery = deliver(_unit())
    _wait_for(lambda: ArchiveDelivery.objects.get(pk=delivery.pk).state == State.FAILED, fiks)
    delivery.refresh_from_db()
    assert arkivmelding.SERVERFEIL in delivery.failure_reason
    assert Notification.objects.filter(kind="archive.delivery_failed").count() == 1


def test_three_unacknowledged_deliveries_bring_fiks_ios_serverfeil(fiks):
    fiks.archive.mode = "noack"
    delivery = deliver(_unit())
    _wait_for(lambda: ArchiveDelivery.objects.get(pk=delivery.pk).state == State.FAILED, fiks)
    delivery.refresh_from_db()
    assert "no.ks.fiks.kvittering.serverfeil.v1" in delivery.failure_reason
    assert len(fiks.archive.seen) == 3
    assert Notification.objects.filter(kind="archive.delivery_failed").count() == 1


def test_no_answer_times_out_and_alerts(fiks, settings):
    fiks.archive.mode = "silent"
    delivery = deliver(_unit())
    fiks.consume(0.3)
    delivery.refresh_from_db()
    assert delivery.state == State.SENT
    with time_machine.travel(
        dt.datetime.now(dt.UTC) + dt.timedelta(minutes=settings.ARCHIVE_ANSWER_TIMEOUT_MINUTES + 1),
        tick=False,
    ):
        assert services.deliveries_time_out() == 1
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert Notification.objects.filter(kind="archive.delivery_failed").count() == 1


def test_a_failed_delivery_sent_again_is_the_same_message(fiks):
    fiks.archive.mode = "serverfeil"
    delivery = deliver(_unit())
    _wait_for(lambda: ArchiveDelivery.objects.get(pk=delivery.pk).state == State.FAILED, fiks)
    fiks.archive.mode = "ok"
    services.delivery_resend(actor=None, delivery=delivery)
    _wait_for(lambda: ArchiveDelivery.objects.get(pk=delivery.pk).state == State.ARCHIVED, fiks)
    ids = {m["headere"]["klientMeldingId"] for m in fiks.fiksio.sent}
    assert ids == {str(delivery.client_message_id)} and len(fiks.fiksio.sent) == 2
    assert fiks.journal.count() == 1


KILLER = """
import os, signal, sys
import django
django.setup()
from kontaktbok.archive import delivery, services
def killed(**kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # between Fiks IO's answer and our commit
services.delivery_mark_sent = killed
delivery.send(int(sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_send_and_receipt_resends_the_same_message(fiks, settings):
    settings.ARCHIVE_LEASE_SECONDS = 1
    queued = settings.TASKS
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    delivery = deliver(_unit())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "KONTAKTBOK_USE_TEST_DATABASE": "1",
        "KONTAKTBOK_FIKS_IO_API_URL": fiks.url,
        "KONTAKTBOK_FIKS_IO_ACCOUNT_ID": fiks.account,
        "KONTAKTBOK_FIKS_IO_INTEGRATION_ID": "test-integrasjon",
        "KONTAKTBOK_FIKS_IO_INTEGRATION_PASSWORD": "test-passord",
        "KONTAKTBOK_MASKINPORTEN_TOKEN_URL": f"{fiks.url}/maskinporten/token",
        "KONTAKTBOK_MASKINPORTEN_CLIENT_ID": "test-klient",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
    }
    process = subprocess.run(  # noqa: S603
        [sys.executable, "-c", KILLER, str(delivery.pk)], env=env, capture_output=True, timeout=120
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()[-2000:]
    assert len(fiks.fiksio.sent) == 1  # it was sent, and the worker died before recording it
    delivery.refresh_from_db()
    assert delivery.state == State.QUEUED and not FiksMessage.objects.exists()
    settings.TASKS = queued
    # The worker ran on the real clock: move this process past its lease.
    with time_machine.travel(delivery.claimed_at + dt.timedelta(seconds=2), tick=True):
        assert services.due_deliveries() == [delivery.pk]
        assert worker.send(delivery.pk) == State.SENT
        _wait_for(lambda: ArchiveDelivery.objects.get(pk=delivery.pk).state == State.ARCHIVED, fiks)
    ids = [m["headere"]["klientMeldingId"] for m in fiks.fiksio.sent]
    assert ids == [str(delivery.client_message_id)] * 2
    assert fiks.journal.count() == 1
    delivery.refresh_from_db()
    assert delivery.journal_reference == "2026/587-1"
