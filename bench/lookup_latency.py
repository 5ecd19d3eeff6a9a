"""Lookup latency: from the teacher saving the registration to the guardians' alert being
handed to the channel, with the embedded worker.

    .venv/bin/python bench/lookup_latency.py [--database-url postgres://...] [--workers 1]

Two scenarios, each pupil registered absent with no report is looked for at once (the
registration is saved at 10:05 on a school day, after both grade bands' lookup times):

- **one class**: a class of ``--pupils`` (25) with ``--absent`` (3) absent registers while
  nothing else happens; repeated for ``--rounds`` (10) classes, one after another, each
  after the previous one's alerts have arrived;
- **whole school**: every class of a school of grades 1–10 (``--classes``, 20 classes of 25)
  registers in the same minute, ``--teachers`` (4) teachers saving at the same time.

The registration is the teacher's POST to the registration page (Django's test client in
this process, logged in as the class's contact teacher, through the whole middleware
stack); the alerts are opened in that request's transaction and their deliveries queued on
commit. They are delivered by real ``kontaktbok worker`` processes (the django-tasks-db
worker that ``kontaktbok serve`` runs, one by default) to a local SMTP server and a local
SMS gateway in a process of their own (bench/fanout.py's receivers), which record when each
delivery arrives. Latency = arrival at the receiver − the moment the POST started.

The database: SQLite in ``build/bench-lookup-data/`` (the embedded default; the file is
deleted at the start), or PostgreSQL with ``--database-url`` (created if missing, migrated
and EMPTIED, so its name must contain "bench" unless ``--force``). The processes share a
demo clock (the data directory's ``demo-clock`` file, removed at the end) set to Tuesday
24 November 2026, 10:05 in Oslo. Logs of the workers are in the data directory.
"""

import argparse
import datetime as dt
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fanout  # bench/fanout.py: receivers, workers, database helpers

ROOT = fanout.ROOT
DATA_DIR = ROOT / "build" / "bench-lookup-data"
DAY = dt.date(2026, 11, 24)  # a Tuesday in the school year the benchmark creates
START = datetime(2026, 11, 24, 10, 5, tzinfo=ZoneInfo("Europe/Oslo"))


def percentile(values: Sequence[float], fraction: float) -> float:
    return fanout.percentile(values, fraction)


def row(name: str, values: Sequence[float]) -> str:
    return fanout.latency_row(name, values)


class School:
    """One school's classes: (group, contact teacher, pupils, the absent ones)."""

    def __init__(self, name: str, grades: list[int], pupils: int, absent: int) -> None:
        from kontaktbok.accounts.services import user_create
        from kontaktbok.schools import services
        from kontaktbok.schools.models import StaffRole

        municipality = services.municipality_create(
            actor=None, name=f"Kommune {name}", org_number=f"9{abs(hash(name)) % 10**8:08d}"
        )
        self.school = services.school_create(
            actor=None,
            municipality=municipality,
            name=name,
            org_number=f"8{abs(hash(name)) % 10**8:08d}",
        )
        year = services.school_year_create(
            actor=None,
            school=self.school,
            name="2026–2027",
            starts_on=dt.date(2026, 8, 17),
            ends_on=dt.date(2027, 6, 18),
            holidays=[],
        )
        self.classes: list[dict[str, Any]] = []
        letters = Counter[int]()
        for grade in grades:
            letters[grade] += 1
            group_name = f"{grade}{chr(ord('A') + letters[grade] - 1)}"
            group = services.group_create(
                actor=None, school_year=year, name=group_name, grade=grade
            )
            teacher = user_create(
                actor=None, email=f"{name}.{group_name}@example.test".lower(), full_name=group_name
            )
            member = services.staff_member_set(actor=None, school=self.school, user=teacher)
            services.staff_role_grant(
                actor=None, member=member, role=StaffRole.Role.CONTACT_TEACHER, group=group
            )
            members = []
            for n in range(pupils):
                pupil = services.pupil_create(
                    actor=None,
                    school=self.school,
                    first_name=f"Elev{n}",
                    last_name=group_name,
                    date_of_birth=dt.date(2026 - 6 - grade, 1 + n % 12, 1 + n % 28),
                    groups=[group],
                )
                guardian = user_create(
                    actor=None,
                    email=f"{name}.{group_name}.{n}@example.test".lower(),
                    full_name=f"Føresett {group_name} {n}",
                    phone=f"+479{group.pk:03d}{n:04d}",
                )
                services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
                members.append(pupil)
            self.classes.append(
                {
                    "group": group,
                    "teacher": teacher,
                    "pupils": members,
                    "absent": members[:: max(1, pupils // absent)][:absent],
                }
            )


def post_registration(item: dict[str, Any]) -> tuple[float, float, int]:
    """The teacher saves the class's registration: everyone present but the absent ones.
    Returns (start, end) in time.monotonic() and the HTTP status."""
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(item["teacher"])
    url = reverse("attendance_register", args=[item["group"].pk]) + f"?date={DAY.isoformat()}"
    data = {f"status-{pupil.pk}": "absent" for pupil in item["absent"]}
    started = time.monotonic()
    response = client.post(url, data)
    ended = time.monotonic()
    connection.close()
    return started, ended, response.status_code


def alert_deliveries(group_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Delivery id → (group id, notification id) of the guardians' alerts of these classes."""
    from kontaktbok.absence.models import LookupCase
    from kontaktbok.notifications.models import Delivery

    cases = dict(
        LookupCase.objects.filter(group_id__in=group_ids, date=DAY).values_list("pk", "group_id")
    )
    result = {}
    rows = Delivery.objects.filter(
        notification__kind="absence.lookup.alert", notification__dedup_key__startswith="lookup:"
    ).values_list("pk", "notification_id", "notification__dedup_key")
    for pk, notification_id, key in rows:
        case_id = int(key.split(":")[1])
        if case_id in cases:
            result[pk] = (cases[case_id], notification_id)
    return result


def wait_for(receiving: fanout.Receivers, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if receiving.received >= count:
            return True
        time.sleep(0.01)
    return False


def run(args: argparse.Namespace) -> int:
    fanout.DATA_DIR = DATA_DIR  # the workers' logs and data directory
    (DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
    url = args.database_url
    if url:
        url = fanout.database_url(argparse.Namespace(database_url=url, force=args.force))
    receiving = fanout.Receivers()
    workers: list[fanout.Worker] = []
    try:
        env = fanout.environment(url or "sqlite", receiving)
        env["KONTAKTBOK_DATA_DIR"] = str(DATA_DIR)
        if url:
            print(f"database {urlparse(url).path.lstrip('/')}: create, migrate, flush", flush=True)
            fanout.create_database(url)
        else:
            del env["KONTAKTBOK_DATABASE_URL"]
            for suffix in ("", "-wal", "-shm"):
                (DATA_DIR / f"kontaktbok.sqlite3{suffix}").unlink(missing_ok=True)
            print(f"database SQLite {DATA_DIR / 'kontaktbok.sqlite3'}: migrate", flush=True)
        fanout.kontaktbok(env, "migrate", "--no-input", "-v", "0")
        fanout.kontaktbok(env, "createcachetable", "-v", "0")
        if url:
            fanout.kontaktbok(env, "flush", "--no-input", "-v", "0")

        os.environ.update(env)
        import django

        django.setup()
        from django.db import connection

        from kontaktbok.absence.models import LookupCase
        from kontaktbok.core import clock
        from kontaktbok.notifications.models import Delivery

        clock.set_demo_offset(START - dt.datetime.now(tz=dt.UTC))

        started = time.monotonic()
        grades = [grade for grade in range(1, 11) for _ in range(args.classes // 10 or 1)]
        whole = School("Heilskule", grades[: args.classes], args.pupils, args.absent)
        single = School("Einskildklasse", [4] * (args.rounds + 1), args.pupils, args.absent)
        pupils = sum(len(c["pupils"]) for s in (whole, single) for c in s.classes)
        print(f"{pupils} pupils and guardians in {time.monotonic() - started:.1f} s", flush=True)

        workers = [
            fanout.Worker(env, f"lookup-{n + 1}", args.interval) for n in range(args.workers)
        ]
        deadline = time.monotonic() + 60
        for worker in workers:
            if not worker.ready.wait(max(0.0, deadline - time.monotonic())):
                print(f"{worker.name} did not start; see {worker.log}", file=sys.stderr)
                return 2
        print(f"{len(workers)} worker(s) polling; it is {clock.local_now():%A %H:%M}", flush=True)

        # A running server and worker are warm (imports, URL resolver, connections, the
        # first e-mail and SMS): one class registers one pupil absent first, unmeasured.
        warm = single.classes.pop()
        post_registration(warm | {"absent": warm["absent"][:1]})
        expected = len(alert_deliveries([warm["group"].pk]))
        timed_out = not wait_for(receiving, expected, args.timeout)
        posted: dict[int, tuple[float, float, int]] = {}  # group id → (start, end, status)
        scenario: dict[int, str] = {}
        for item in [] if timed_out else single.classes:  # one class at a time
            group_id = item["group"].pk
            posted[group_id] = post_registration(item)
            scenario[group_id] = "one class"
            expected += len(alert_deliveries([group_id]))
            if not wait_for(receiving, expected, args.timeout):
                timed_out = True
                break
        if not timed_out:
            with ThreadPoolExecutor(max_workers=args.teachers) as pool:
                results = pool.map(post_registration, whole.classes)
                for item, result in zip(whole.classes, results, strict=True):
                    posted[item["group"].pk] = result
                    scenario[item["group"].pk] = "whole school"
            expected += len(alert_deliveries([c["group"].pk for c in whole.classes]))
            timed_out = not wait_for(receiving, expected, args.timeout)
        # The workers record "delivered" just after the receiver has the message.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            Delivery.objects.filter(status__in=["pending", "sending"]).exists()
        ):
            time.sleep(0.1)

        arrivals = receiving.arrivals()
        first_arrival: dict[int, float] = {}
        repeats = 0
        for items in arrivals.values():
            for delivery_id, moment in items:
                if delivery_id in first_arrival:
                    repeats += 1
                else:
                    first_arrival[delivery_id] = moment
        deliveries = alert_deliveries(list(posted))
        channel_of = dict(Delivery.objects.values_list("pk", "channel"))
        latency: dict[tuple[str, str], list[float]] = {}
        per_notification: dict[tuple[str, int], list[float]] = {}
        for pk, (group_id, notification_id) in deliveries.items():
            if pk not in first_arrival:
                continue
            value = first_arrival[pk] - posted[group_id][0]
            latency.setdefault((scenario[group_id], channel_of[pk]), []).append(value)
            per_notification.setdefault((scenario[group_id], notification_id), []).append(value)
        statuses = Counter(
            Delivery.objects.filter(pk__in=list(deliveries)).values_list("status", flat=True)
        )
        cases = LookupCase.objects.filter(date=DAY, group_id__in=list(posted)).count()
        http = Counter(status for _s, _e, status in posted.values())
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                database = f"PostgreSQL {cursor.fetchone()[0]}"
            else:
                cursor.execute("SELECT sqlite_version()")
                database = f"SQLite {cursor.fetchone()[0]} (WAL)"

        print()
        print(f"kontaktbok lookup latency, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
        print(f"{'database':<30}{database}")
        interval = f"{args.interval} s" if args.interval is not None else "the default, 1 s"
        print(f"{'worker processes':<30}{len(workers)} (kontaktbok worker, interval {interval})")
        print(f"{'one class':<30}{args.rounds} rounds × {args.pupils} pupils, {args.absent} absent")
        print(
            f"{'whole school':<30}{len(whole.classes)} classes × {args.pupils} pupils, "
            f"{args.absent} absent each, {args.teachers} teachers saving at once"
        )
        print(f"{'registrations (HTTP status)':<30}{dict(http)}")
        print(f"{'cases opened':<30}{cases}")
        print(f"{'alert deliveries':<30}{len(deliveries)} (e-mail and SMS per guardian)")
        handed = sum(pk in first_arrival for pk in deliveries)
        print(f"{'handed to the receivers':<30}{handed}")
        print(f"{'repeats at the receivers':<30}{repeats}")
        print(f"{'final statuses':<30}{dict(sorted(statuses.items()))}")
        for name in ("one class", "whole school"):
            requests = [e - s for g, (s, e, _st) in posted.items() if scenario[g] == name]
            whole_span = [
                max(values) for (sc, _n), values in per_notification.items() if sc == name
            ]
            print()
            heading = f"{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'n':>8}"
            print(f"{name + ': save → receiver':<30}{heading}")
            print(row("the POST itself", requests))
            print(row("e-mail", latency.get((name, "email"), [])))
            print(row("SMS", latency.get((name, "sms"), [])))
            print(row("alert, all channels", whole_span))
        if timed_out:
            print(f"\nTIMED OUT after {args.timeout:.0f} s", file=sys.stderr)
            return 1
        ok = statuses == Counter({"delivered": len(deliveries)}) and not repeats
        return 0 if ok and set(http) == {302} else 1
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.wait()
        receiving.stop()
        (DATA_DIR / "demo-clock").unlink(missing_ok=True)  # back to real time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL (default: SQLite)")
    parser.add_argument("--force", action="store_true", help="empty any database name")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--classes", type=int, default=20, help="the whole school's classes")
    parser.add_argument("--pupils", type=int, default=25, help="pupils per class")
    parser.add_argument("--absent", type=int, default=3, help="absent pupils per class")
    parser.add_argument("--rounds", type=int, default=10, help="one-class rounds")
    parser.add_argument("--teachers", type=int, default=4, help="teachers saving at once")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="the workers' polling interval when idle (default: the worker's own, 1 s)",
    )
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.current_thread().name = "bench"
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
