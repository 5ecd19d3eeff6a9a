"""The morning-peak benchmark: a municipality's 07:00–09:00 on one server, with budgets.

    .venv/bin/python bench/morning/run.py                 # default: 20 schools, 6,000 pupils
    .venv/bin/python bench/morning/run.py --schools 100 --pupils 40000 --duration 300

1. Empties and fills PostgreSQL ``--database-url`` (name must contain "bench"; default
   postgres://postgres@127.0.0.1:5432/kontaktbok_bench_morning) with bench/morning/generate.py.
2. Moves the server's clock (the demo clock file in the data directory) to Tuesday
   24 November 2026, 08:00 in Oslo, a school day after every school's lookup time.
3. Signs people in by writing their sessions (Django's session engine; no login page, so
   password hashing does not count): the guardians of 5 % of the pupils, every class's
   contact teacher, kontor of every school.
4. Starts ``kontaktbok serve`` (gunicorn with ``--web-workers`` sync workers, the task
   worker and the scheduler; ``KONTAKTBOK_PROFILE=embedded``, DEBUG off) on ``--port`` with
   ``KONTAKTBOK_BENCH_QUERY_HEADER=1``, and runs locust headless in its own process.
5. With ``--backup``: takes ``kontaktbok backup`` of the running system while the load goes
   on, then restores it into an empty data dir and database; prints both times.
6. With ``--retention``: the generated data also has the two school years before
   (``generate.py --past-years``), and ``kontaktbok retention`` (the production command,
   in its own process) deletes what is due while the load goes on; prints its time and,
   per rule, the rows due, held and deleted.
7. Prints per endpoint: requests/s, p50/p95/p99 latency, errors, queries per request; the
   baseline page and the ratio to it; the alert latency (registration → the lookup alert's
   delivery handed to its channel). Exits 1 if a budget fails.

Logs and data: build/bench-data/morning/.
"""

import argparse
import csv
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "build" / "bench-data" / "morning"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kontaktbok_bench_morning"
MORNING = dt.datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Europe/Oslo"))
PY = sys.executable

QUERY_BUDGET = 15
P95_BUDGET_MS = 100
P95_BUDGETED = ("guardian report form", "guardian report (POST)", "registration page",
                "registration (POST)", "daily check", "daily check (POST)")  # fmt: skip


def _default_rate_limits() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "src"))
    from kontaktbok.core.rate_limits import DEFAULTS

    return DEFAULTS


def _env(args: argparse.Namespace) -> dict[str, str]:
    return os.environ | {
        "KONTAKTBOK_DATABASE_URL": args.database_url,
        "KONTAKTBOK_DATA_DIR": str(DATA_DIR),
        "KONTAKTBOK_PROFILE": "embedded",
        # E-mail and SMS are handed to the demo's sink (no gateway to wait for).
        "KONTAKTBOK_DEMO": "1",
        "KONTAKTBOK_DEBUG": "0",
        "KONTAKTBOK_LOG_LEVEL": "ERROR",
        # Every simulated person comes from 127.0.0.1: keep the per-person rate limits and
        # drop the per-address ones, which would count the whole municipality as one client.
        "KONTAKTBOK_RATE_LIMITS": json.dumps(
            {
                bucket: ",".join(r for r in spec.split(",") if r.endswith("/user"))
                for bucket, spec in _default_rate_limits().items()
            }
        ),
        "DJANGO_SETTINGS_MODULE": "kontaktbok.settings",
        "PYTHONPATH": str(ROOT / "src"),
    }


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit(f"refusing a database whose name has no 'bench' in it: {name}")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _django_setup(args: argparse.Namespace) -> None:
    os.environ.update(_env(args))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _sessions(world: dict[str, Any], share: float) -> dict[str, Any]:
    """Sessions written as a login would write them; cookies for locust."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    users = get_user_model().objects.in_bulk(
        [p["user"] for kind in ("guardian_sample", "teachers", "offices") for p in world[kind]]
    )
    backend = "kontaktbok.accounts.backends.VerifiedEmailBackend"

    def session(user_id: int) -> str:
        store = SessionStore()
        user = users[user_id]
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key or ""

    step = max(1, round(1 / share))
    guardians = world["guardian_sample"][::step]
    sick = world["absence_type_sick"]
    return {
        "today": MORNING.date().isoformat(),
        "guardians": [
            {
                "session": session(g["user"]),
                "pupil": g["pupil"],
                "absence_type": sick[str(g["school"])],
            }
            for g in guardians
        ],
        "teachers": [{**t, "session": session(t["user"])} for t in world["teachers"]],
        "offices": [{**o, "session": session(o["user"])} for o in world["offices"]],
    }


def _warm_up(port: int, people: dict[str, Any], rounds: int = 6) -> None:
    """Ask each page a few times before the measurement, as a running server would have
    been asked already: each web worker's first requests compile the templates and load
    the translations. Only pages that change nothing are asked."""
    guardian, teacher, office = people["guardians"][0], people["teachers"][0], people["offices"][0]
    pages = [
        (guardian, f"/absence/children/{guardian['pupil']}/report/"),
        (guardian, f"/absence/children/{guardian['pupil']}/"),
        (guardian, "/messages/"),
        (teacher, f"/absence/groups/{teacher['group']}/register/"),
        (teacher, f"/absence/groups/{teacher['group']}/check/"),
        (teacher, "/messages/"),
        (office, f"/absence/schools/{office['school']}/checks/"),
        (office, f"/absence/schools/{office['school']}/lookup/"),
    ]
    for _round in range(rounds):
        for who, path in pages:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Cookie": f"sessionid={who['session']}"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()


def _wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up; see build/bench-data/morning/serve.log")


def _alert_latency(since: dt.datetime) -> tuple[list[float], int, int]:
    """Registration → the lookup alert handed to its channel, per delivery (ms)."""
    from kontaktbok.absence.models import LookupCase
    from kontaktbok.notifications.models import Delivery

    cases = {c.pk: c.registered_at for c in LookupCase.objects.filter(opened_at__gte=since)}
    values, pending = [], 0
    for delivery in Delivery.objects.filter(
        notification__dedup_key__startswith="lookup:", notification__created_at__gte=since
    ).select_related("notification"):
        case_id = int(delivery.notification.dedup_key.split(":")[1])
        if case_id not in cases:
            continue
        if delivery.delivered_at is None:
            pending += 1
            continue
        values.append((delivery.delivered_at - cases[case_id]).total_seconds() * 1000)
    return values, len(cases), pending


def _backup_during_load(env: dict[str, str]) -> dict[str, Any]:
    """``kontaktbok backup`` of the running system, timed, while the morning load goes on."""
    from pyrage import x25519

    identity = x25519.Identity.generate()
    folder = DATA_DIR / "backup"
    subprocess.run(["rm", "-rf", str(folder)], check=True)  # noqa: S603, S607
    folder.mkdir()
    (folder / "key.txt").write_text(f"{identity}\n")
    output = folder / "kontaktbok-bench.age"
    started = time.monotonic()
    subprocess.run(  # noqa: S603
        [PY, "-m", "kontaktbok.cli", "backup", "--output", str(output)],
        env=env | {"KONTAKTBOK_BACKUP_RECIPIENT": str(identity.to_public())},
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return {"file": output, "seconds": time.monotonic() - started, "key": folder / "key.txt"}


def _retention_during_load(env: dict[str, str]) -> dict[str, Any]:
    """``kontaktbok retention`` on the running system, timed, while the morning load goes on.
    Its day is the server's (the demo clock file): the benchmark's morning."""
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603
        [PY, "-m", "kontaktbok.cli", "retention"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    rows = [  # rule, days, due, held, deleted: the days are the command's own to show
        [fields[0], *fields[2:]]
        for fields in map(str.split, result.stdout.splitlines())
        if len(fields) == 5 and all(f.isdigit() for f in fields[2:])
    ]
    return {"seconds": seconds, "status": result.returncode, "rows": rows,
            "output": result.stdout + result.stderr}  # fmt: skip


def _report_retention(world: dict[str, Any], retention: dict[str, Any]) -> int:
    past = world.get("past_years") or {}
    print(
        "\npast school years generated (2024–2025, 2025–2026): "
        + ", ".join(f"{count} {kind}" for kind, count in past.items())
    )
    print(
        f"retention during the load (kontaktbok retention, batches of {_batch_size()} ids, "
        f"one transaction each): {retention['seconds']:.0f} s"
    )
    if retention["status"] != 0:
        print("retention FAILED\n" + retention["output"][-3000:])
        return 1
    head = f"  {'rule':<18}{'due':>10}{'held':>10}{'deleted':>10}"
    print(head + "\n  " + "-" * (len(head) - 2))
    for code, due, held, deleted in retention["rows"]:
        print(f"  {code:<18}{int(due):>10}{int(held):>10}{int(deleted):>10}")
    return 0


def _batch_size() -> int:
    from kontaktbok.privacy.retention import BATCH

    return BATCH


def _restore_elsewhere(
    args: argparse.Namespace, env: dict[str, str], backup: Path
) -> dict[str, Any]:
    """``kontaktbok restore`` of the backup into an empty data dir and database, timed."""
    import psycopg

    base, name = args.database_url.rsplit("/", 1)
    target = f"{name}_restored"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}"')
    data_dir = DATA_DIR / "restored"
    subprocess.run(["rm", "-rf", str(data_dir)], check=True)  # noqa: S603, S607
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603
        [PY, "-m", "kontaktbok.cli", "restore", str(backup), "--identity",
         str(DATA_DIR / "backup" / "key.txt")],
        env=env | {"KONTAKTBOK_DATA_DIR": str(data_dir),
                   "KONTAKTBOK_DATABASE_URL": f"{base}/{target}"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    output = result.stdout + result.stderr
    return {"seconds": seconds, "status": result.returncode, "output": output}


def _report_backup(
    args: argparse.Namespace, backup: dict[str, Any], restore: dict[str, Any]
) -> int:
    size = backup["file"].stat().st_size / 1e6
    print(
        f"\nbackup during the load (kontaktbok backup, pg_dump in one snapshot, age): "
        f"{backup['seconds']:.0f} s, {size:.0f} MB"
    )
    same = restore["status"] == 0 and restore["output"].rstrip().endswith("restored")
    print(
        f"restore into an empty data dir and database (kontaktbok restore, pg_restore, "
        f"migrate): {restore['seconds']:.0f} s; counts "
        + ("match the manifest" if same else "DIFFER or the restore failed")
    )
    if not same:
        print(restore["output"][-3000:])
    return 0 if same else 1


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def run(args: argparse.Namespace) -> int:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _ensure_database(args.database_url)
    env = _env(args)
    clock_file = DATA_DIR / "demo-clock"
    clock_file.unlink(missing_ok=True)
    for command in ("migrate", "collectstatic"):
        subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [PY, "-m", "kontaktbok.cli", command, "--no-input", "-v", "0"], env=env, check=True
        )
    world_file = DATA_DIR / "world.json"
    started = time.monotonic()
    subprocess.run(  # noqa: S603
        [PY, str(ROOT / "bench/morning/generate.py"), "--schools", str(args.schools),
         "--pupils", str(args.pupils), "--out", str(world_file)]
        + (["--past-years"] if args.retention else []),
        env=env, check=True,
    )  # fmt: skip
    generation = time.monotonic() - started
    world = json.loads(world_file.read_text())
    _django_setup(args)
    from django.core.cache import cache
    from django.core.management import call_command
    from django.utils import timezone

    # The rate limits count in the cache, a table flush leaves alone: a second run in the
    # same hour would find the first one's counters (the same user ids) and each limited
    # POST would cost the counter's update instead of its insert. (A new database has no
    # cache table until the server starts: made here first.)
    call_command("createcachetable", verbosity=0)
    cache.clear()

    people = _sessions(world, args.share)
    people_file = DATA_DIR / "people.json"
    people_file.write_text(json.dumps(people))
    offset = (MORNING - dt.datetime.now(dt.UTC)).total_seconds()
    clock_file.write_text(f"{offset}\n")
    since = timezone.now() + dt.timedelta(seconds=offset) - dt.timedelta(minutes=1)

    serve_log = (DATA_DIR / "serve.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [PY, "-m", "kontaktbok.cli", "serve"],
        env=env | {"KONTAKTBOK_BIND": f"127.0.0.1:{args.port}",
                   "KONTAKTBOK_WEB_WORKERS": str(args.web_workers),
                   "KONTAKTBOK_BENCH_QUERY_HEADER": "1"},
        stdout=serve_log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    queries_file = DATA_DIR / "queries.json"
    prefix = DATA_DIR / "locust"
    try:
        _wait_up(args.port)
        _warm_up(args.port, people)
        locust = subprocess.Popen(  # noqa: S603
            [str(Path(PY).parent / "locust"), "-f", str(ROOT / "bench/morning/locustfile.py"),
             "--headless", "-u", str(args.users), "-r", str(args.users), "-t", f"{args.duration}s",
             "--host", f"http://127.0.0.1:{args.port}", "--csv", str(prefix), "--only-summary",
             "--loglevel", "ERROR", "--stop-timeout", "10"],
            env=os.environ | {"BENCH_MORNING_PEOPLE": str(people_file),
                              "BENCH_MORNING_QUERIES": str(queries_file)},
            stdout=(DATA_DIR / "locust.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        backup: dict[str, Any] = {}
        if args.backup:
            time.sleep(min(15, args.duration / 4))  # into the steady load
            backup = _backup_during_load(env)
        retention: dict[str, Any] = {}
        if args.retention:
            time.sleep(min(15, args.duration / 4))  # into the steady load
            retention = _retention_during_load(env)
            if locust.poll() is not None:
                print("the retention run outlasted the load: make --duration longer")
        locust.wait()
        # Let the worker finish the queue (the last registrations' look-ups among it) and
        # hand over the last alerts.
        from django_tasks_db.models import DBTaskResult

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _latencies, _cases, pending = _alert_latency(since)
            queued = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
            if not pending and not queued:
                break
            time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        clock_file.unlink(missing_ok=True)
    status = _report(
        args, world, people, prefix, queries_file, generation, locust.returncode, since
    )
    if args.backup:
        restore = _restore_elsewhere(args, env, backup["file"])
        status |= _report_backup(args, backup, restore)
    if args.retention:
        status |= _report_retention(world, retention)
    return status


def _report(
    args: argparse.Namespace,
    world: dict[str, Any],
    people: dict[str, Any],
    prefix: Path,
    queries_file: Path,
    generation: float,
    locust_status: int,
    since: dt.datetime,
) -> int:
    queries = json.loads(queries_file.read_text()) if queries_file.exists() else {}
    with open(f"{prefix}_stats.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] != "Aggregated"]
    latencies, cases, pending = _alert_latency(since)
    failures: list[str] = []
    print(f"\nkontaktbok morning peak, {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(
        f"municipality: {world['schools']} schools, {world['pupils']} pupils, "
        f"{world['guardians']} guardians, {world['staff']} staff, {world['groups']} groups, "
        f"{world['attendance_marks']} attendance marks ({world['school_days_of_history']} days); "
        f"generated in {generation:.0f} s"
    )
    print(
        f"morning: {len(people['guardians'])} guardians report, {len(people['teachers'])} "
        f"classes register and check; {args.users} locust users, {args.duration} s; "
        f"gunicorn {args.web_workers} sync workers + task worker + scheduler, PostgreSQL"
    )
    head = (
        f"{'endpoint':<28}{'req':>6}{'rps':>7}{'p50':>6}{'p95':>6}{'p99':>6}{'err':>5}"
        f"{'q/req':>7}{'max q':>6}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    baseline_p50 = 0.0
    for r in sorted(rows, key=lambda r: r["Name"]):
        name = r["Name"]
        counts = queries.get(name, [])
        mean_q = statistics.mean(counts) if counts else float("nan")
        max_q = max(counts) if counts else 0
        p50, p95, p99 = (float(r[k]) for k in ("50%", "95%", "99%"))
        errors = int(r["Failure Count"])
        print(
            f"{name:<28}{int(r['Request Count']):>6}{float(r['Requests/s']):>7.1f}"
            f"{p50:>6.0f}{p95:>6.0f}{p99:>6.0f}{errors:>5}{mean_q:>7.1f}{max_q:>6}"
        )
        if name.startswith("baseline"):
            baseline_p50 = p50
        if errors:
            failures.append(f"{name}: {errors} errors")
        if max_q > QUERY_BUDGET:
            failures.append(f"{name}: {max_q} queries > {QUERY_BUDGET}")
        if name in P95_BUDGETED and p95 > P95_BUDGET_MS:
            failures.append(f"{name}: p95 {p95:.0f} ms > {P95_BUDGET_MS} ms")
    print("(latency in ms; q/req = database queries per request, from X-Query-Count)")
    if baseline_p50:
        print("\np50 / baseline p50 (the framework's floor on the same server):")
        for r in sorted(rows, key=lambda r: r["Name"]):
            if not r["Name"].startswith("baseline"):
                print(f"  {r['Name']:<28}{float(r['50%']) / baseline_p50:>6.1f}×")
    print(
        f"\nalert latency, registration → lookup alert handed to its channel: "
        f"p50 {_pct(latencies, 0.5):.0f} ms, p95 {_pct(latencies, 0.95):.0f} ms, "
        f"max {max(latencies, default=float('nan')):.0f} ms; {len(latencies)} deliveries, "
        f"{cases} cases opened, {pending} not delivered"
    )
    if pending:
        failures.append(f"{pending} alerts not delivered")
    if locust_status not in (0, 1):
        failures.append(f"locust exited {locust_status}")
    print("\nbudgets: " + ("all hold" if not failures else "FAILED"))
    for failure in failures:
        print(f"  {failure}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=6000)
    parser.add_argument("--share", type=float, default=0.05, help="pupils reported absent")
    parser.add_argument(
        "--users",
        type=int,
        default=4,
        help="concurrent locust users: kontor and the baseline one each, the rest guardians "
        "and teachers 4:3",
    )
    parser.add_argument("--duration", type=int, default=90, help="seconds of load")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--backup",
        action="store_true",
        help="take a backup during the load, then restore it elsewhere; time both",
    )
    parser.add_argument(
        "--retention",
        action="store_true",
        help="generate the two school years before too, and run the retention job during "
        "the load; time it",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_MORNING_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
