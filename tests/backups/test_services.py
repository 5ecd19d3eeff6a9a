"""The nightly backup: taken once after its time, kept in the local folder and an
S3-compatible bucket, old ones pruned; a failed or missing backup is told to the school
admins and shows in ``/healthz``."""

import datetime as dt
import socket

import boto3
import pyrage
import pytest
import requests
import time_machine
from django.test import Client
from moto.server import ThreadedMotoServer
from pyrage import x25519

from kontaktbok.backups import selectors, services, storage, tasks
from kontaktbok.backups.models import BackupRun
from kontaktbok.core import scheduler
from kontaktbok.core.clock import SCHOOL_TZ
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications.models import Notification

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in December 2026, school-local."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SCHOOL_TZ)


@pytest.fixture
def configured(settings, tmp_path):
    identity = x25519.Identity.generate()
    settings.BACKUP_RECIPIENT = str(identity.to_public())
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_AT = "02:00"
    settings.BACKUP_KEEP = "7,4,12"
    return identity


def _backups(settings) -> list[str]:
    return storage.LocalFolder(settings.BACKUP_DIR).names()


def test_a_backup_is_written_encrypted_recorded_and_audited(configured, settings, tmp_path):
    with time_machine.travel(at(3, 2, 1), tick=False):
        run = services.take_backup()
    assert run.status == BackupRun.Status.DONE
    assert run.name == "kontaktbok-20261203T010100Z.age"
    assert _backups(settings) == [run.name]
    assert run.stored_in == "local" and run.size > 0 and run.rows > 0
    decrypted = tmp_path / "backup.tar"
    pyrage.decrypt_file(str(settings.BACKUP_DIR / run.name), str(decrypted), [configured])
    assert decrypted.stat().st_size > 0
    entry = AuditEntry.objects.get(action="backups.taken")
    assert entry.detail["name"] == run.name


def test_the_nightly_backup_runs_once_after_its_time(configured, settings):
    assert tasks.back_up_if_due in [item.task for item in scheduler.registered()]
    with time_machine.travel(at(3, 1, 55), tick=False):
        BackupRun.objects.create(started_at=at(2, 2, 1), status=BackupRun.Status.DONE)
        assert services.back_up_if_due() is None
    for minute in (0, 5, 10):
        with time_machine.travel(at(3, 2, minute), tick=False):
            services.back_up_if_due()
    assert BackupRun.objects.filter(status=BackupRun.Status.DONE).count() == 2
    with time_machine.travel(at(4, 2, 0), tick=False):
        assert services.back_up_if_due().status == BackupRun.Status.DONE
    assert len(_backups(settings)) == 2


def test_a_failed_backup_is_tried_again_after_an_hour(configured, settings):
    settings.BACKUP_RECIPIENT = "not an age key"
    with time_machine.travel(at(3, 2, 0), tick=False):
        assert services.back_up_if_due().status == BackupRun.Status.FAILED
    with time_machine.travel(at(3, 2, 30), tick=False):
        assert services.back_up_if_due() is None
    with time_machine.travel(at(3, 3, 1), tick=False):
        assert services.back_up_if_due().status == BackupRun.Status.FAILED
    assert _backups(settings) == []


def test_a_failed_backup_is_told_to_the_school_admins(world, configured, settings):
    settings.BACKUP_RECIPIENT = "not an age key"
    with time_machine.travel(at(3, 2, 0), tick=False):
        run = services.take_backup()
    assert run.status == BackupRun.Status.FAILED
    assert "age public key" in run.error
    told = Notification.objects.filter(kind="backups.failed")
    assert {n.recipient_id for n in told} == {world.school_admin.pk}
    assert "age public key" in told.get().payload["error"]
    assert AuditEntry.objects.filter(action="backups.failed").count() == 1


def test_a_missing_backup_is_told_once_a_day_and_shows_in_healthz(world, configured, queued_tasks):
    with time_machine.travel(at(3, 4, 0), tick=False):
        # Within three hours of its time the backup may still be on its way.
        BackupRun.objects.create(started_at=at(2, 2, 0), status=BackupRun.Status.DONE)
        services.alert_if_late()
        assert not Notification.objects.filter(kind="backups.late").exists()
        scheduler.tick()
        assert Client().get("/healthz").json()["checks"]["backup"]["state"] == "ok"
    with time_machine.travel(at(3, 5, 1), tick=False):
        services.alert_if_late()
        services.alert_if_late()
        scheduler.tick()
        response = Client().get("/healthz")
    told = Notification.objects.filter(kind="backups.late")
    assert [n.recipient_id for n in told] == [world.school_admin.pk]
    assert response.status_code == 200  # the server still serves; monitoring reads the body
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["backup"] == {
        "ok": False,
        "state": "late",
        "last_success": "2026-12-02T01:00:00+00:00",
    }
    with time_machine.travel(at(4, 5, 1), tick=False):
        services.alert_if_late()
    assert Notification.objects.filter(kind="backups.late").count() == 2  # the next day, again


def test_healthz_without_backups_configured_says_so(settings, queued_tasks):
    settings.BACKUP_RECIPIENT = ""
    scheduler.tick()
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["backup"]["state"] == selectors.OFF


def _old_backups(folder_names: list[str], put) -> None:
    """A year of nightly backups up to 2 December 2026."""
    last = dt.date(2026, 12, 2)
    for n in range(365):
        moment = dt.datetime.combine(last - dt.timedelta(days=n), dt.time(2), tzinfo=SCHOOL_TZ)
        put(storage.name_for(moment))


def test_old_backups_in_the_local_folder_are_pruned(configured, settings):
    settings.BACKUP_DIR.mkdir(parents=True)
    (settings.BACKUP_DIR / "notes.txt").write_text("not a backup")
    _old_backups([], lambda name: (settings.BACKUP_DIR / name).write_bytes(b"old"))
    with time_machine.travel(at(3, 2, 0), tick=False):
        run = services.take_backup()
    assert run.pruned == 366 - (7 + 2 + 10)
    assert len(_backups(settings)) == 7 + 2 + 10
    assert run.name in _backups(settings)
    assert (settings.BACKUP_DIR / "notes.txt").exists()


@pytest.fixture
def s3(settings):
    """A local S3-compatible server (moto in server mode) with an empty bucket."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto keeps its buckets per process: start from none.
    requests.post(f"http://127.0.0.1:{port}/moto-api/reset", timeout=10).raise_for_status()
    settings.BACKUP_S3_BUCKET = "kontaktbok-backups"
    settings.BACKUP_S3_PREFIX = "vassenden/"
    settings.BACKUP_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.BACKUP_S3_REGION = "eu-north-1"
    settings.BACKUP_S3_ACCESS_KEY = "test-access-key"
    settings.BACKUP_S3_SECRET_KEY = "test-secret-key"
    client = boto3.client(
        "s3",
        endpoint_url=settings.BACKUP_S3_ENDPOINT_URL,
        region_name="eu-north-1",
        aws_access_key_id="test-access-key",
        aws_secret_access_key="test-secret-key",
    )
    client.create_bucket(
        Bucket="kontaktbok-backups",
        CreateBucketConfiguration={"LocationConstraint": "eu-north-1"},
    )
    yield client
    server.stop()


def _keys(client) -> list[str]:
    listed = client.list_objects_v2(Bucket="kontaktbok-backups")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_a_backup_is_copied_to_the_bucket_and_old_ones_there_are_pruned(configured, settings, s3):
    _old_backups(
        [],
        lambda name: s3.put_object(
            Bucket="kontaktbok-backups", Key=f"vassenden/{name}", Body=b"old"
        ),
    )
    s3.put_object(Bucket="kontaktbok-backups", Key="other-system/kontaktbok-x.age", Body=b"x")
    with time_machine.travel(at(3, 2, 0), tick=False):
        run = services.take_backup()
    assert run.status == BackupRun.Status.DONE, run.error
    assert run.stored_in == "local, s3"
    keys = _keys(s3)
    assert f"vassenden/{run.name}" in keys
    assert "other-system/kontaktbok-x.age" in keys  # outside the prefix: not ours
    assert len([key for key in keys if key.startswith("vassenden/")]) == 7 + 2 + 10
    body = s3.get_object(Bucket="kontaktbok-backups", Key=f"vassenden/{run.name}")["Body"]
    assert body.read() == (settings.BACKUP_DIR / run.name).read_bytes()


def test_an_unreachable_bucket_fails_the_backup_and_tells_the_admins(world, configured, s3):
    s3.delete_bucket(Bucket="kontaktbok-backups")
    with time_machine.travel(at(3, 2, 0), tick=False):
        run = services.take_backup()
    assert run.status == BackupRun.Status.FAILED
    assert "NoSuchBucket" in run.error
    assert Notification.objects.filter(kind="backups.failed").count() == 1
