"""Fan-out benchmark: one notification to each of N guardians, delivered by real workers.

    .venv/bin/python bench/fanout.py [--recipients 1000] [--workers 2]

Runs against PostgreSQL: ``--database-url``, else ``KONTAKTBOK_DATABASE_URL``, else
postgres://postgres@127.0.0.1:5432/kontaktbok_bench. The database is created if missing,
migrated, and EMPTIED (``flush``); so its name must contain "bench" unless ``--force``.

It starts a local SMTP receiver (aiosmtpd) and a local HTTP SMS receiver in this process,
creates the guardians (``accounts.services.user_create``, with e-mail and mobile number),
starts N ``kontaktbok worker`` processes and waits until they poll, then calls
``notifications.services.notify`` once per guardian; each e-mail and SMS row gets its
``deliver`` task on commit. It measures, per delivery, the time from its task being enqueued
(django.tasks' ``task_enqueued`` signal) to its arrival at the receiver, and the time from the
first enqueue until every delivery has arrived. It stops by itself (``--timeout``) and stops
its worker processes and receivers on the way out.

The kind: the app registers no urgent kind, and a kind registered only in this process would
be unknown to the worker processes. The default is the app's ``notifications.test`` with each
guardian's preference set to e-mail and SMS: it is sent at once (``scheduled=False``), on the
same channels an urgent notification would use (no one has a push subscription). The sending
window is opened to the whole day as well (``KONTAKTBOK_NOTIFY_WINDOW_*``, read when
``notify`` runs). An urgent kind that the workers know can be given with ``--kind``.
"""

import argparse
import contextlib
import email
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kontaktbok_bench"
DATA_DIR = ROOT / "build" / "bench-data"


# --- Receivers ------------------------------------------------------------------------------


class Arrivals:
    """What reached a receiver: (delivery id, time.monotonic()) per message.

    ``time.monotonic()`` is CLOCK_MONOTONIC on Linux, one clock for every process on the
    machine, so it compares with the enqueue times taken in the benchmark's main process.
    """

    def __init__(self, counter: Any) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[int, float]] = []
        self.counter = counter  # shared with the main process: messages received so far

    def add(self, delivery_id: int) -> None:
        now = time.monotonic()
        with self.lock:
            self.items.append((delivery_id, now))
        with self.counter.get_lock():
            self.counter.value += 1

    def snapshot(self) -> list[tuple[int, float]]:
        with self.lock:
            return list(self.items)


class SmsReceiver:
    """An HTTP SMS gateway on 127.0.0.1 that answers 200 at once."""

    def __init__(self, counter: Any) -> None:
        self.arrivals = Arrivals(counter)
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                key = self.headers.get("Idempotency-Key", "")
                arrivals.add(int(key.removeprefix("delivery-")))
                answer = json.dumps({"status": "accepted"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.request_queue_size = 128
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that accepts every message."""

    def __init__(self, counter: Any) -> None:
        import socket

        from aiosmtpd.controller import Controller

        self.arrivals = Arrivals(counter)
        arrivals = self.arrivals

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.content)
                arrivals.add(int(message["X-Kontaktbok-Delivery"]))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def receivers(connection: Connection, counter: Any) -> None:
    """The receivers' own process, apart from the one that enqueues (and its GIL)."""
    sms, smtp = SmsReceiver(counter), SmtpReceiver(counter)
    try:
        connection.send((sms.url, smtp.port))
        connection.recv()  # until the main process asks for the arrivals
        connection.send({"email": smtp.arrivals.snapshot(), "sms": sms.arrivals.snapshot()})
    finally:
        sms.stop()
        smtp.stop()


class Receivers:
    """Starts the receivers' process; ``arrivals()`` fetches what arrived and stops it."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.counter = context.Value("i", 0)
        self.connection, child = context.Pipe()
        self.asked = False
        self.process = context.Process(
            target=receivers, args=(child, self.counter), name="receivers", daemon=True
        )
        self.process.start()
        if not self.connection.poll(30):
            self.stop()
            raise RuntimeError("the receivers did not start")
        self.sms_url, self.smtp_port = self.connection.recv()

    @property
    def received(self) -> int:
        return self.counter.value

    def arrivals(self) -> dict[str, list[tuple[int, float]]]:
        self.connection.send("stop")
        self.asked = True
        if not self.connection.poll(30):
            raise RuntimeError("the receivers did not answer")
        return self.connection.recv()

    def stop(self) -> None:
        if not self.asked and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.connection.send("stop")
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


# --- Database and processes -----------------------------------------------------------------


def database_url(args: argparse.Namespace) -> str:
    url = args.database_url or os.environ.get("KONTAKTBOK_DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"fanout: a PostgreSQL URL is needed, not {parsed.scheme}://")
    name = parsed.path.lstrip("/")
    if "bench" not in name and not args.force:
        sys.exit(
            f"fanout: the benchmark empties its database; {name!r} has no 'bench' in its name "
            "(give --database-url .../kontaktbok_bench, or --force)"
        )
    return url


def create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def environment(url: str, receivers: Receivers) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KONTAKTBOK_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kontaktbok.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]),
            "KONTAKTBOK_DATA_DIR": str(DATA_DIR),
            "KONTAKTBOK_DATABASE_URL": url,
            "KONTAKTBOK_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
            "KONTAKTBOK_SMS_GATEWAY": "http",
            "KONTAKTBOK_SMS_URL": receivers.sms_url,
            "KONTAKTBOK_EMAIL_HOST": "127.0.0.1",
            "KONTAKTBOK_EMAIL_PORT": str(receivers.smtp_port),
            "KONTAKTBOK_NOTIFY_WINDOW_START": "00:00",
            "KONTAKTBOK_NOTIFY_WINDOW_END": "23:59:59.999999",
            "KONTAKTBOK_LOG_LEVEL": "WARNING",
        }
    )
    return env


def kontaktbok(env: dict[str, str], *args: str, timeout: float = 600) -> None:
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kontaktbok.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
    )


class Worker:
    """One ``kontaktbok worker`` process; its output goes to a log file."""

    def __init__(self, env: dict[str, str], name: str, interval: float | None) -> None:
        self.name = name
        self.ready = threading.Event()
        self.log = DATA_DIR / f"{name}.log"
        command = [sys.executable, "-m", "kontaktbok.cli", "worker", "--no-reload"]
        command += ["--no-startup-delay", "--worker-id", name]
        if interval is not None:
            command += ["--interval", str(interval)]
        self.process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log.open("wb") as log:
            for line in self.process.stdout:
                log.write(line)
                if b"Starting worker" in line:
                    self.ready.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # finishes the task at hand, then exits

    def wait(self) -> None:
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# --- Figures --------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_row(name: str, values: Sequence[float]) -> str:
    if not values:
        return f"{name:<30}{'-':>10}{'-':>10}{'-':>10}{'-':>8}"
    ms = [value * 1000 for value in values]
    return (
        f"{name:<30}{percentile(ms, 0.5):>10.0f}{percentile(ms, 0.95):>10.0f}"
        f"{max(ms):>10.0f}{len(ms):>8}"
    )


# --- The run --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    url = database_url(args)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    receiving = Receivers()
    workers: list[Worker] = []
    try:
        env = environment(url, receiving)
        print(f"database {urlparse(url).path.lstrip('/')}: create, migrate, flush", flush=True)
        create_database(url)
        kontaktbok(env, "migrate", "--no-input", "-v", "0")
        kontaktbok(env, "createcachetable", "-v", "0")
        kontaktbok(env, "flush", "--no-input", "-v", "0")

        os.environ.update(env)
        import django

        django.setup()
        from django.db import connection
        from django.tasks.signals import task_enqueued
        from django_tasks_db.models import DBTaskResult

        from kontaktbok.accounts.services import user_create
        from kontaktbok.notifications import kinds, services
        from kontaktbok.notifications import tasks as notification_tasks
        from kontaktbok.notifications.models import Channel, Delivery

        kind = kinds.get(args.kind)
        started = time.monotonic()
        guardians = []
        for n in range(args.recipients):
            guardian = user_create(
                actor=None,
                email=f"foresett{n}@example.test",
                full_name=f"Føresett {n}",
                phone=f"+479{n:07d}",
            )
            if not kind.urgent:
                services.preferences_save(
                    actor=guardian, choices={kind.code: {"email", "sms"}}, digest=False
                )
            guardians.append(guardian)
        print(f"{len(guardians)} guardians in {time.monotonic() - started:.1f} s", flush=True)

        workers = [Worker(env, f"bench-{n + 1}", args.interval) for n in range(args.workers)]
        deadline = time.monotonic() + 60
        for worker in workers:
            if not worker.ready.wait(max(0.0, deadline - time.monotonic())):
                print(f"{worker.name} did not start; see {worker.log}", file=sys.stderr)
                return 2
        print(f"{len(workers)} workers polling; enqueueing", flush=True)

        enqueued: dict[int, float] = {}

        def on_enqueued(sender, task_result, **kwargs):
            if task_result.task.func is notification_tasks.deliver.func:
                enqueued[task_result.args[0]] = time.monotonic()

        task_enqueued.connect(on_enqueued, weak=False)
        first_enqueue = time.monotonic()
        for guardian in guardians:
            services.notify(recipient=guardian, kind=kind.code, dedup_key="bench", payload={})
        last_enqueue = time.monotonic()
        task_enqueued.disconnect(on_enqueued)

        expected = dict(Delivery.objects.values_list("pk", "channel"))
        channels = Counter(expected.values())
        deadline = last_enqueue + args.timeout
        finished = False
        while time.monotonic() < deadline:
            if receiving.received >= len(expected):
                finished = True
                break
            time.sleep(0.05)
        # The workers record "delivered" just after the receiver has the message.
        while finished and time.monotonic() < deadline + 10:
            if not Delivery.objects.filter(status__in=["pending", "sending"]).exists():
                break
            time.sleep(0.2)

        arrivals = receiving.arrivals()
        first_arrival: dict[int, float] = {}
        repeats = 0
        for items in arrivals.values():
            for delivery_id, moment in items:
                if delivery_id in first_arrival:
                    repeats += 1
                else:
                    first_arrival[delivery_id] = moment
        latency = {
            channel: [
                first_arrival[pk] - enqueued[pk]
                for pk, ch in expected.items()
                if ch == channel and pk in first_arrival and pk in enqueued
            ]
            for channel in (Channel.EMAIL, Channel.SMS)
        }
        by_notification: dict[int, list[int]] = {}
        for pk, notification_id in Delivery.objects.values_list("pk", "notification_id"):
            by_notification.setdefault(notification_id, []).append(pk)
        whole = [
            max(first_arrival[pk] for pk in pks) - min(enqueued[pk] for pk in pks)
            for pks in by_notification.values()
            if all(pk in first_arrival and pk in enqueued for pk in pks)
        ]
        statuses = Counter(Delivery.objects.values_list("status", flat=True))
        per_worker = Counter(
            worker
            for workers_ in DBTaskResult.objects.values_list("worker_ids", flat=True)
            for worker in workers_
        )
        last_arrival = max(first_arrival.values(), default=first_enqueue)
        makespan = max(last_arrival - first_enqueue, 1e-6)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]

        print()
        print(f"kontaktbok fan-out, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print(f"{'PostgreSQL':<30}{server_version}")
        print(f"{'kind':<30}{kind.code} ({'urgent' if kind.urgent else 'e-mail + SMS'})")
        print(f"{'recipients':<30}{len(guardians)}")
        print(f"{'worker processes':<30}{len(workers)}")
        print(
            f"{'deliveries':<30}{len(expected)} "
            f"({channels[Channel.EMAIL]} e-mail, {channels[Channel.SMS]} SMS)"
        )
        print(f"{'enqueueing (notify × N)':<30}{last_enqueue - first_enqueue:.2f} s")
        print(f"{'first enqueue → all handed':<30}{makespan:.2f} s")
        print(f"{'last enqueue → all handed':<30}{last_arrival - last_enqueue:.2f} s")
        print(f"{'throughput':<30}{len(first_arrival) / makespan:.0f} deliveries/s")
        print(f"{'':<30}{len(whole) / makespan:.0f} notifications/s (all channels)")
        print(f"{'handed to the receivers':<30}{len(first_arrival)} of {len(expected)}")
        print(f"{'repeats at the receivers':<30}{repeats}")
        print(f"{'final statuses':<30}{dict(sorted(statuses.items()))}")
        print(f"{'tasks per worker':<30}{dict(sorted(per_worker.items()))}")
        print()
        heading = f"{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'n':>8}"
        print(f"{'latency enqueue → receiver':<30}{heading}")
        print(latency_row("e-mail delivery", latency[Channel.EMAIL]))
        print(latency_row("SMS delivery", latency[Channel.SMS]))
        print(latency_row("notification, all channels", whole))
        if not finished:
            print(f"\nTIMED OUT after {args.timeout:.0f} s", file=sys.stderr)
            return 1
        return 0 if statuses == Counter({"delivered": len(expected)}) and not repeats else 1
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.wait()
        receiving.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kind", default="notifications.test")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="the workers' polling interval when idle (default: the worker's own, 1 s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="give up this long after enqueueing"
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--force", action="store_true", help="empty any database name")
    args = parser.parse_args(argv)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
