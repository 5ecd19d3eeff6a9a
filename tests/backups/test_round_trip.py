"""A backup taken from the running demo while a writer adds absence reports, restored into
an empty data dir (and, on PostgreSQL, an empty database), serves the demo again: the
guardian logs in and opens an encrypted attachment, and a pupil is found by identity
number. Everything runs as an operator would run it: ``kontaktbok`` commands in their own
processes, and the restored system behind its real web server.

Runs on the database the suite runs on (CI runs it on SQLite and on PostgreSQL)."""

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from kontaktbok.demo.data import DEMO_PASSWORD, DOMAIN
from tests.backups.helpers import key_pair, operator_env
from tests.waiting import wait_until

KONTAKTBOK = [sys.executable, "-m", "kontaktbok.cli"]
GUARDIAN = f"foresett@{DOMAIN}"
# A synthetic identity number (valid control digits), given to one new pupil.
NIN = "24051290336"
ATTACHMENT = (
    b"%PDF-1.7\n% kept through backup and restore\n1 0 obj<<>>endobj\nstartxref\n9\n%%EOF\n"
)

SETUP = f"""
import datetime as dt
from kontaktbok.accounts.models import User
from kontaktbok.messaging import services as messaging
from kontaktbok.schools import access, services as schools
from kontaktbok.schools.identity import is_valid_nin
from django.core.files.uploadedfile import SimpleUploadedFile
from kontaktbok.schools.models import StaffRole
guardian = User.objects.get(email={GUARDIAN!r})
child = access.guardian_pupils(guardian).order_by("pk").first()
assert is_valid_nin({NIN!r})
schools.pupil_create(actor=None, school=child.school, first_name="Nina", last_name="Nummer",
    date_of_birth=dt.date(2012, 5, 24), nin={NIN!r})
thread = messaging.thread_start_by_guardian(actor=guardian, pupil_id=child.pk,
    roles=[StaffRole.Role.CONTACT_TEACHER], subject="Vedlegg", body="Sjå vedlegget",
    files=[SimpleUploadedFile("brev.pdf", {ATTACHMENT!r}, content_type="application/pdf")])
print(thread.messages.get().attachments.get().pk)
"""

# Adds absence reports (on the days a guardian may report) until the file named by STOP
# exists; prints how many it added.
WRITER = """
import itertools, os, pathlib
from django.core.exceptions import ValidationError
from kontaktbok.absence import services
from kontaktbok.schools import selectors
from kontaktbok.accounts.models import User
from kontaktbok.schools import access
guardian = User.objects.get(email=%(guardian)r)
stop = pathlib.Path(os.environ["STOP"])
child = access.guardian_pupils(guardian).order_by("pk").first()
window = services.report_window(child)
year = selectors.current_school_year(child.school)
days = selectors.school_days(year, max(window.earliest, year.starts_on), window.latest)
sick = child.school.absence_types.get(code="sick")
pathlib.Path(os.environ["STARTED"]).touch()
added = 0
for day in itertools.cycle(days):
    if stop.exists():
        break
    try:
        services.absence_report_create(actor=guardian, pupil_id=child.pk, start_date=day,
            end_date=day, absence_type=sick)
        added += 1
    except ValidationError:
        pass
print("added", added)
"""

CHECK = f"""
from kontaktbok.schools.identity import nin_digest
from kontaktbok.schools.models import Pupil
print(Pupil.objects.get(nin_digest=nin_digest({NIN!r})).last_name)
"""


class Place:
    """A data dir and its database, and the environment of a process working on them."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.env = operator_env(data_dir, database_url)

    def command(self, *args: str, timeout: float = 300, **extra: str) -> str:
        result = subprocess.run(  # noqa: S603
            [*KONTAKTBOK, *args],
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"kontaktbok {args[0]}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def shell(self, code: str) -> str:
        return self.command("shell", "--no-imports", "-c", textwrap.dedent(code)).strip()


@pytest.fixture
def databases():
    """Empty PostgreSQL databases for the live system and the restore, when the suite runs
    on PostgreSQL; SQLite files in the data dirs otherwise."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        yield "", ""
        return
    suffix = os.environ.get("PYTEST_XDIST_WORKER", "main")
    names = [f"kontaktbok_backup_live_{suffix}", f"kontaktbok_backup_restored_{suffix}"]
    auth = {"host": db["HOST"], "port": db["PORT"] or None, "user": db["USER"]}
    with psycopg.connect(dbname="postgres", autocommit=True, **auth) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    base = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    yield tuple(f"{base}/{name}" for name in names)
    with psycopg.connect(dbname="postgres", autocommit=True, **auth) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(place: Place, port: int, log: Path) -> subprocess.Popen:
    """``kontaktbok serve`` as the operator starts it: web server, worker and scheduler."""
    env = {**place.env, "KONTAKTBOK_BIND": f"127.0.0.1:{port}", "KONTAKTBOK_WEB_WORKERS": "1"}
    with log.open("w") as out:
        return subprocess.Popen(  # noqa: S603
            [*KONTAKTBOK, "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_backup_taken_while_writing_restores_into_a_system_that_serves_the_demo(
    tmp_path, databases
):
    identity, key_file = key_pair(tmp_path)
    live = Place(tmp_path / "live", databases[0])
    live.command("migrate", "--no-input", "-v", "0")
    live.command("load_demo")
    attachment_id = int(live.shell(SETUP).splitlines()[-1])

    started, stop = tmp_path / "writer-started", tmp_path / "writer-stop"
    writer = subprocess.Popen(  # noqa: S603
        [*KONTAKTBOK, "shell", "--no-imports", "-c", WRITER % {"guardian": GUARDIAN}],
        env={**live.env, "STOP": str(stop), "STARTED": str(started)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: started.exists() or writer.poll() is not None, what="the writer", timeout=60
        )
        assert writer.poll() is None, writer.communicate()
        out = live.command("backup", KONTAKTBOK_BACKUP_RECIPIENT=str(identity.to_public()))
    finally:
        stop.touch()
        written, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0, errors
    # The writer was adding reports while the backup was taken.
    assert int(re.search(r"added (\d+)", written).group(1)) > 0, written
    [backup] = sorted((live.data_dir / "backups").glob("kontaktbok-*.age"))
    assert re.search(r"kept in local", out)
    assert b"Vassenden" not in backup.read_bytes()  # encrypted

    verified = live.command("backup", "--verify", str(backup), "--identity", str(key_file))
    assert "verified" in verified
    assert "attachments: 1 of 1 decrypted and checked" in verified

    restored = Place(tmp_path / "restored", databases[1])
    out = restored.command("restore", str(backup), "--identity", str(key_file))
    assert out.strip().endswith("restored")
    assert "absence_absencereport" in out
    for name in ("secret_key", "nin_digest_key", "file_key"):
        assert (restored.data_dir / name).read_bytes() == (live.data_dir / name).read_bytes()
        assert (restored.data_dir / name).stat().st_mode & 0o777 == 0o600

    assert restored.shell(CHECK) == "Nummer"
    port = _free_port()
    log = tmp_path / "server.log"
    server = _serve(restored, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(f"{base}/healthz"), what="the restored web server", timeout=60)
        browser = requests.Session()
        page = browser.get(f"{base}/accounts/login/", timeout=10)
        assert page.status_code == 200, log.read_text()[-3000:]
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, page.text[:3000]
        token = found.group(1)
        login = browser.post(
            f"{base}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "login": GUARDIAN, "password": DEMO_PASSWORD},
            timeout=10,
        )
        assert login.status_code == 200, log.read_text()[-3000:]
        assert "/accounts/login/" not in login.url
        opened = browser.get(f"{base}/messages/attachments/{attachment_id}/", timeout=10)
        assert opened.status_code == 200
        assert opened.content == ATTACHMENT
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    # Restoring again over the restored system is refused, and nothing there changes.
    again = subprocess.run(  # noqa: S603
        [*KONTAKTBOK, "restore", str(backup), "--identity", str(key_file)],
        env=restored.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1
    assert "only into an empty place" in again.stderr
    assert restored.shell(CHECK) == "Nummer"
