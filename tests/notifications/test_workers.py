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
at the window. This module runs on the real clock, the workers' clock.

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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kontaktbok.notifications import services
from kontaktbok.notifications import tasks as notification_tasks
from kontaktbok.notifications.models import Channel, Delivery
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
DB_BACKEND = "django_tasks_db.DatabaseBackend"
KIND = "notifications.test"
LEASE_SECONDS = 2
HOLD_SECONDS = 3.0
FINAL = (Delivery.Status.DELIVERED, Delivery.Status.FAILED)


@pytest.fixture(autouse=True)
def _school_day():
    """Replaces the suite's frozen clock (tests/conftest.py) with the real one.

    The workers are other processes on the real clock; the lease and the sweep compare times
    written by them, and ``claim`` compares ``due_at`` written here with their clock.
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
    accepted when the request arrives; ``hold(n, seconds)`` makes the next ``n`` requests wait
    that long before the answer is written (a slow gateway, or a slow network).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.messages: dict[str, int] = {}  # Idempotency-Key → accepted message id
        self._hold_count = 0
        self._hold_seconds = 0.0
        self.holding = threading.Event()  # a held request has arrived
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

    def hold(self, count: int, seconds: float) -> None:
        with self.lock:
            self._hold_count, self._hold_seconds = count, seconds

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
            )
            self.requests.append(request)
            if self._hold_count > 0:
                self._hold_count -= 1
                request.held = True
            hold = self._hold_seconds
        if request.held:
            self.holding.set()
            time.sleep(hold)
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

    def __init__(self, gateway_url: str, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[subprocess.Popen, Path]] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
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

    def run(self, *args: str, timeout: float = 30) -> None:
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
    started = Processes(gateway.url, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def wait_until(condition, timeout: float, what: str, processes: Processes):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {what}\n{processes.output()}")
        time.sleep(0.05)


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
    #   - every row ends "delivered", none "failed", none still "sending";
    #   - every delivery's key reached the gateway, and the gateway accepted exactly one
    #     message per delivery (and no message for anything else);
    #   - no key was sent again after the app had read a complete answer for it;
    #   - only the killed delivery was sent twice, both times with the same key and body.
    users = sms_recipients(20)
    ids = notify_all(users, "kill")
    expected_keys = {f"delivery-{pk}" for pk in ids}
    gateway.hold(1, HOLD_SECONDS)

    first = processes.worker("first")
    wait_until(gateway.holding.is_set, 30, "the first SMS request at the gateway", processes)
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(timeout=5)
    [held] = [request for request in gateway.snapshot() if request.held]
    killed = Delivery.objects.get(pk=int(held.key.removeprefix("delivery-")))
    assert killed.status == Delivery.Status.SENDING
    assert killed.attempts == 1

    processes.worker("second")
    wait_until(
        lambda: statuses()[Delivery.Status.DELIVERED] == len(ids) - 1,
        30,
        "the second worker delivering the other rows",
        processes,
    )
    # Nothing else gives the killed worker's row back before its lease runs out.
    killed.refresh_from_db()
    assert killed.status == Delivery.Status.SENDING
    lease_end = killed.claimed_at + dt.timedelta(seconds=LEASE_SECONDS, milliseconds=300)
    time.sleep(max(0.0, (lease_end - timezone.now()).total_seconds()))

    # The scheduler's tick enqueues the sweep, which the second worker runs: it hands the row
    # back (lease over) and enqueues its delivery again.
    processes.run("tick")
    wait_until(
        lambda: statuses()[Delivery.Status.DELIVERED] == len(ids),
        30,
        "every row delivered after the sweep",
        processes,
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
    # the same moment and race for the claim.
    ids = notify_all(users, "race", twice=True)

    processes.worker("one")
    processes.worker("two")
    wait_until(
        lambda: statuses()[Delivery.Status.DELIVERED] == len(ids),
        45,
        "both workers delivering every row",
        processes,
    )
    wait_until(
        lambda: DBTaskResult.objects.finished().count() == 2 * len(ids),
        15,
        "every task finished",
        processes,
    )

    assert statuses() == Counter({Delivery.Status.DELIVERED: len(ids)})
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    sent = Counter(request.key for request in gateway.snapshot())
    assert sent == Counter({f"delivery-{pk}": 1 for pk in ids})
    # Each row: one task sent it, the other found it claimed and did nothing.
    results = list(DBTaskResult.objects.values_list("status", "return_value", "worker_ids"))
    assert {status for status, _value, _workers in results} == {"SUCCESSFUL"}
    assert Counter(value for _status, value, _workers in results) == Counter(
        {Delivery.Status.DELIVERED.value: len(ids), None: len(ids)}
    )
    # Both really worked, and on the same rows: for most rows one task ran on each worker,
    # a few milliseconds apart (about 90 % of the rows on SQLite and PostgreSQL here).
    ran = Counter(worker for _s, _v, workers in results for worker in workers)
    assert set(ran) == {"one", "two"}, ran
    workers_per_row: dict[int, set[str]] = {}
    for args_kwargs, workers in DBTaskResult.objects.values_list("args_kwargs", "worker_ids"):
        workers_per_row.setdefault(args_kwargs["args"][0], set()).update(workers)
    assert [row for row, workers in workers_per_row.items() if len(workers) == 2]
