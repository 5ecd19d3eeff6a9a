"""Real worker processes (``kontaktbok worker``) delivering the outbox to a local SMS gateway.

A worker killed in mid-request, the lease and the sweep; two workers racing for the same rows.
Runs on SQLite and on PostgreSQL (``KONTAKTBOK_DATABASE_URL``): the workers are subprocesses
that open the pytest test database (``KONTAKTBOK_USE_TEST_DATABASE=1``), so the tests use
``transactional_db`` (committed data) and the database task backend (rows, not immediate runs).

The kind: the app registers no urgent kind. A kind registered only in this module would be
unknown in the worker processes (``channels.render`` → ``kinds.get`` raises ``ValueError``,
which ``delivery.deliver`` treats as a transient error: retried with back-off, failed after
``DELIVERY_MAX_ATTEMPTS``); ``tests.urgent`` reaches them only through ``tests.settings``'
``NOTIFICATION_KIND_MODULES``, and an urgent kind means e-mail as well, which a worker cannot
show us (below). So the tests use the app's own ``notifications.test`` with an SMS-only
preference. Its due time is fixed when ``notify`` runs, in this process, and the kind is
sent at once (``scheduled=False``); the sending window is opened to the whole day here as
well, so the rows are due at once whatever the hour even if that changes. Workers never look
at the window. This module and the workers run on the real clock; the lease is long, and a
test that needs it over moves every process's clock past it (the demo clock file,
``tests.absence.worker_settings``) instead of waiting.

E-mail: worker processes on ``tests.settings`` always use Django's in-memory mail backend
(``tests/settings.py`` sets ``MAILERS`` unconditionally, ``KONTAKTBOK_EMAIL_HOST`` is ignored),
so an e-mail "sent" by a worker cannot be observed. The recipients therefore want SMS only:
every delivery row is an SMS row, and every row is checked at the gateway.
"""

import datetime as dt
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kontaktbok.core import clock
from kontaktbok.notifications import services
from kontaktbok.notifications import tasks as notification_tasks
from kontaktbok.notifications.models import Channel, Delivery
from tests import factories
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DB_BACKEND = "django_tasks_db.DatabaseBackend"
KIND = "notifications.test"
LEASE_SECONDS = 60  # never reached in real time here: the tests move the clock past it


@pytest.fixture(autouse=True)
def _school_day():
    """Replaces the suite's frozen clock (tests/conftest.py) with the real one.

    The workers are other processes on the real clock (moved only by the demo clock file);
    the lease and the sweep compare times written by them, and ``claim`` compares ``due_at``
    written here with their clock.
    """
    yield


# --- A local SMS gateway --------------------------------------------------------------------


@dataclass
class Request:
    key: str
    body: dict
    arrived: float  # time.monotonic() in this process
    accepted: bool  # a new message: the first request with this Idempotency-Key
    message_id: int
    connection: socket.socket = field(repr=False)
    held: bool = False
    answered: float | None = None  # when the gateway wrote (or tried to write) its answer
    answer_written: bool = False  # the answer went into the socket without an error
    client_gone: bool = False  # the client had hung up before the answer was written

    @property
    def complete(self) -> bool:
        """The client was there to read the whole answer."""
        return self.answer_written and not self.client_gone


def _peer_closed(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class Gateway:
    """An HTTP SMS gateway on 127.0.0.1 that records every POST.

    Like a real gateway given a client reference, it accepts a message once per
    Idempotency-Key: a repeat gets the first answer again and sends nothing. A message is
    accepted when the request arrives; ``hold(n)`` makes the next ``n`` requests wait for
    ``release()`` before the answer is written (a slow gateway, or a slow network).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.messages: dict[str, int] = {}  # Idempotency-Key → accepted message id
        self._hold_count = 0
        self.holding = threading.Event()  # a held request has arrived
        self._released = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                gateway._handle(self, body, self.headers.get("Idempotency-Key", ""))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hold(self, count: int) -> None:
        with self.lock:
            self._hold_count = count

    def release(self) -> None:
        """Let the held requests have their answers."""
        self._released.set()

    def held(self) -> list[Request]:
        return [request for request in self.snapshot() if request.held]

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict, key: str) -> None:
        with self.lock:
            accepted = key not in self.messages
            if accepted:
                self.messages[key] = len(self.messages) + 1
            request = Request(
                key=key,
                body=body,
                arrived=time.monotonic(),
                accepted=accepted,
                message_id=self.messages[key],
                connection=handler.connection,
            )
            self.requests.append(request)
            if self._hold_count > 0:
                self._hold_count -= 1
                request.held = True
        if request.held:
            self.holding.set()
            self._released.wait(timeout=120)  # only a failed test leaves it held that long
        request.client_gone = _peer_closed(handler.connection)
        answer = json.dumps({"id": request.message_id, "duplicate": not accepted}).encode()
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(answer)))
            handler.end_headers()
            handler.wfile.write(answer)
            handler.wfile.flush()
            request.answer_written = True
        except OSError:
            pass
        request.answered = time.monotonic()

    def snapshot(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    gateway = Gateway()
    settings.SMS_GATEWAY = "http"
    settings.SMS_URL = gateway.url
    try:
        yield gateway
    finally:
        gateway.close()


# --- Worker processes -----------------------------------------------------------------------


class Processes:
    """Starts ``kontaktbok`` subprocesses on the test database; stops them all at the end."""

    def __init__(self, gateway_url: str, logs: Path, demo_clock: Path) -> None:
        self.logs = logs
        self.started: list[tuple[subprocess.Popen, Path]] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.absence.worker_settings",
            "KONTAKTBOK_TEST_DEMO_CLOCK": str(demo_clock),
            "KONTAKTBOK_USE_TEST_DATABASE": "1",
            "KONTAKTBOK_TASK_BACKEND": DB_BACKEND,
            "KONTAKTBOK_SMS_GATEWAY": "http",
            "KONTAKTBOK_SMS_URL": gateway_url,
            "KONTAKTBOK_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
            ),
        }

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "kontaktbok.cli", *args]

    def worker(self, name: str) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                self._command(
                    "worker",
                    "--interval",
                    "0.05",
                    "--no-startup-delay",
                    "--no-reload",
                    "--worker-id",
                    name,
                ),
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started.append((process, log))
        return process

    def run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(  # noqa: S603
            self._command(*args),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"kontaktbok {' '.join(args)}:\n{result.stderr[-3000:]}"

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name} (exit {process.poll()}) ---\n{log.read_text(errors='replace')[-3000:]}"
            for process, log in self.started
        )

    def stop_all(self) -> None:
        for process, _log in self.started:
            if process.poll() is None:
                process.terminate()
        for process, _log in self.started:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def processes(transactional_db, settings, gateway, tmp_path):
    # enqueue() in this process writes task rows for the workers instead of running the task.
    settings.TASKS = {"default": {"BACKEND": DB_BACKEND}}
    # Due at once whatever the hour (see the module's docstring).
    settings.NOTIFY_WINDOW_START = dt.time(0, 0)
    settings.NOTIFY_WINDOW_END = dt.time.max
    settings.DEMO_CLOCK_FILE = tmp_path / "demo-clock"
    started = Processes(gateway.url, tmp_path, settings.DEMO_CLOCK_FILE)
    try:
        yield started
    finally:
        started.stop_all()
        clock.set_demo_offset(None)


def move_clock_to(moment: dt.datetime) -> None:
    """Every process's clock reads ``moment`` now (to the second) and runs on from there."""
    clock.set_demo_offset(moment - timezone.now())


def sweep(processes: Processes, *, by_tick: bool = False) -> int:
    """Have a worker run the sweep (queued directly, or by the scheduler's ``tick``); returns
    how many rows it queued again."""
    path = notification_tasks.sweep_deliveries.module_path
    before = set(DBTaskResult.objects.filter(task_path=path).values_list("pk", flat=True))
    if by_tick:
        processes.run("tick")
    else:
        notification_tasks.sweep_deliveries.enqueue()
    [queued] = DBTaskResult.objects.filter(task_path=path).exclude(pk__in=before)
    wait_until(
        lambda: DBTaskResult.objects.finished().filter(pk=queued.pk).exists(),
        what="a worker running the sweep",
        details=processes.output,
    )
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL", queued.traceback
    return queued.return_value


def sms_recipients(count: int) -> list:
    """Guardians with a mobile number who want this kind by SMS only."""
    users = []
    for n in range(count):
        user = factories.user(phone=f"+479{n:07d}")
        services.preferences_save(actor=user, choices={KIND: {"sms"}}, digest=False)
        users.append(user)
    return users


def notify_all(users: list, tag: str, twice: bool = False) -> list[int]:
    """One notification each; ``notify`` enqueues a ``deliver`` task per row on commit.

    ``twice``: every row's task is queued once more right behind it, as when the minute's
    sweep re-enqueues rows whose task is still waiting.
    """
    for n, user in enumerate(users):
        notification = services.notify(recipient=user, kind=KIND, dedup_key=f"{tag}-{n}")
        if twice:
            for pk in notification.deliveries.values_list("pk", flat=True):
                notification_tasks.deliver.enqueue(pk)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    assert ids, "no delivery rows"
    assert set(Delivery.objects.values_list("channel", flat=True)) == {Channel.SMS}
    assert DBTaskResult.objects.count() == len(ids) * (2 if twice else 1)
    return ids


def statuses() -> Counter:
    return Counter(Delivery.objects.values_list("status", flat=True))


# --- Tests ----------------------------------------------------------------------------------


def test_a_worker_killed_in_mid_request_loses_nothing_and_sends_nothing_twice(processes, gateway):
    # What "exactly once" means here. A row is claimed by one worker at a time, and a worker
    # that has its answer records it, so without a crash every delivery is one HTTP request.
    # A worker killed while its request is in flight leaves the row "sending"; the app cannot
    # know whether the gateway acted on that request. After the lease the sweep hands the row
    # back and another worker sends it again, with the same Idempotency-Key and reference.
    # The person gets exactly one SMS because the gateway deduplicates by that key, as real
    # gateways do with a client reference. So we check:
    #   - the sweep leaves the killed worker's row alone until its lease is over, then hands
    #     it back;
    #   - every row ends "delivered", none "failed", none still "sending";
    #   - every delivery's key reached the gateway, and the gateway accepted exactly one
    #     message per delivery (and no message for anything else);
    #   - no key was sent again after the app had read a complete answer for it;
    #   - only the killed delivery was sent twice, both times with the same key and body.
    users = sms_recipients(20)
    ids = notify_all(users, "kill")
    expected_keys = {f"delivery-{pk}" for pk in ids}
    gateway.hold(1)

    first = processes.worker("first")
    wait_until(
        gateway.holding.is_set,
        what="the first SMS request at the gateway",
        details=processes.output,
    )
    [held] = gateway.held()
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(timeout=5)
    wait_until(
        lambda: _peer_closed(held.connection), what="the killed worker's connection to close"
    )
    # The gateway answers only now, to a connection nobody holds any more.
    gateway.release()
    wait_until(lambda: held.answered is not None, what="the gateway answering the dead worker")
    killed = Delivery.objects.get(pk=int(held.key.removeprefix("delivery-")))
    assert killed.status == Delivery.Status.SENDING
    assert killed.attempts == 1

    processes.worker("second")
    wait_until(
        lambda: statuses()[Delivery.Status.DELIVERED] == len(ids) - 1,
        what="the second worker delivering the other rows",
        details=processes.output,
    )
    # The dead worker's row stays its own while the lease holds, even for a sweep run just
    # before the lease ends ...
    lease_end = killed.claimed_at + dt.timedelta(seconds=LEASE_SECONDS)
    move_clock_to(lease_end - dt.timedelta(seconds=10))
    assert sweep(processes) == 0
    killed.refresh_from_db()
    assert (killed.status, killed.attempts) == (Delivery.Status.SENDING, 1)

    # ... and once it is over, the scheduler's tick enqueues the sweep, which the second
    # worker runs: it hands the row back and enqueues its delivery again.
    move_clock_to(lease_end + dt.timedelta(seconds=2))
    assert sweep(processes, by_tick=True) == 1
    wait_until(
        lambda: statuses()[Delivery.Status.DELIVERED] == len(ids),
        what="every row delivered after the sweep",
        details=processes.output,
    )

    assert statuses() == Counter({Delivery.Status.DELIVERED: len(ids)})
    killed.refresh_from_db()
    assert killed.attempts == 2
    assert json.loads(killed.provider_answer.removeprefix("200 ")) == {
        "id": held.message_id,
        "duplicate": True,
    }
    assert set(Delivery.objects.exclude(pk=killed.pk).values_list("attempts", flat=True)) == {1}

    requests = gateway.snapshot()
    sent = Counter(request.key for request in requests)
    assert set(sent) == expected_keys
    assert gateway.messages.keys() == expected_keys
    assert Counter(request.key for request in requests if request.accepted) == Counter(
        {key: 1 for key in expected_keys}
    )
    for request in requests:
        assert request.body["reference"] == request.key
    assert {key for key, count in sent.items() if count > 1} == {held.key}
    assert sent[held.key] == 2
    retry = next(r for r in requests if r.key == held.key and r is not held)
    assert retry.body == held.body
    assert retry.arrived > killed_at and not retry.accepted and retry.complete
    # The first request of the killed worker: accepted by the gateway, but its answer was
    # written after the worker died, to a connection nobody held any more: the app never read
    # it. (``held.answer_written`` is usually True all the same: the kernel takes a write to
    # a connection the other side has closed.)
    assert held.accepted
    assert held.answered is not None and held.answered > killed_at
    assert held.client_gone and not held.complete
    for key in expected_keys:
        by_key = [r for r in requests if r.key == key]
        answered = [r.answered for r in by_key if r.complete and r.answered is not None]
        assert answered, f"{key}: the app never read a complete answer"
        assert not [r for r in by_key if r.arrived > min(answered)], (
            f"{key} was sent again after its first complete answer"
        )


def test_two_workers_deliver_each_row_exactly_once(processes, gateway):
    users = sms_recipients(200)
    # Every row queued twice, back to back: the two workers take the two tasks for a row at
    # about the same moment and race for the claim.
    ids = notify_all(users, "race", twice=True)
    # The first row sent is held at the gateway, so its worker is stuck in mid-send; the
    # other task for that row can then only run on the other worker, which must find the row
    # claimed and leave it.
    gateway.hold(1)

    processes.worker("one")
    processes.worker("two")
    wait_until(
        gateway.holding.is_set,
        what="the first SMS request at the gateway",
        details=processes.output,
    )
    [held] = gateway.held()
    row_tasks = DBTaskResult.objects.filter(
        args_kwargs__args__0=int(held.key.removeprefix("delivery-"))
    )
    wait_until(
        lambda: row_tasks.filter(status="SUCCESSFUL").exists(),
        what="the other worker running the held row's second task",
        details=processes.output,
    )
    sending, other = row_tasks.get(status="RUNNING"), row_tasks.get(status="SUCCESSFUL")
    assert other.return_value is None  # found the row claimed
    assert {*sending.worker_ids, *other.worker_ids} == {"one", "two"}
    gateway.release()

    wait_until(
        lambda: statuses()[Delivery.Status.DELIVERED] == len(ids),
        timeout=120,
        what="both workers delivering every row",
        details=processes.output,
    )
    wait_until(
        lambda: DBTaskResult.objects.finished().count() == 2 * len(ids),
        what="every task finished",
        details=processes.output,
    )

    # Every row delivered, claimed once (a claim counts an attempt) and sent once.
    assert statuses() == Counter({Delivery.Status.DELIVERED: len(ids)})
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    sent = Counter(request.key for request in gateway.snapshot())
    assert sent == Counter({f"delivery-{pk}": 1 for pk in ids})
    # Each row: one task sent it, the other found it claimed and did nothing.
    outcomes: dict[int, Counter] = {}
    for status, args_kwargs, value in DBTaskResult.objects.values_list(
        "status", "args_kwargs", "return_value"
    ):
        assert status == "SUCCESSFUL"
        outcomes.setdefault(args_kwargs["args"][0], Counter())[value] += 1
    assert outcomes == {pk: Counter({Delivery.Status.DELIVERED.value: 1, None: 1}) for pk in ids}
