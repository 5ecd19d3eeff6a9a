"""The periodic task ``look_for_missing_pupils`` (absence/tasks.py): every minute it opens
the cases that are due, escalates and alerts classes with no registration; a doubled, late
or concurrent tick does no harm.

Exactly once under concurrency: several "workers" (threads, each with its own database
connection) run the task at the same instant against the same due pupils, on SQLite and on
PostgreSQL (``KONTAKTBOK_DATABASE_URL``), with the deliveries going to a real local SMS
gateway; and two real ``kontaktbok worker`` processes take two doubled scheduler ticks.
"""

import contextlib
import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connections

from kontaktbok.absence import services, tasks
from kontaktbok.absence.lookup import services as lookup
from kontaktbok.absence.models import LookupCase
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.core.scheduler import registered
from kontaktbok.notifications.models import Delivery, Notification
from kontaktbok.schools import services as school_services
from tests import factories
from tests.absence.lookup_helpers import TODAY, at, marked_anyway, moment, register
from tests.notifications.conftest import SmsGateway
from tests.waiting import wait_until

Status = LookupCase.Status


def run_at(hour: int, minute: int = 0) -> dict[str, int]:
    with at(hour, minute):
        return tasks.look_for_missing_pupils.call()


def test_the_task_runs_every_minute(db):
    [item] = [i for i in registered() if i.task.name == "look_for_missing_pupils"]
    assert item.every_minutes == 1


def test_each_tick_does_what_is_due_and_a_doubled_tick_does_nothing_more(world):
    with at(8, 35):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        register(world.contact_teacher_b, world.class_b, {world.child_a2: "absent"})
    assert run_at(8, 49) == {"closed": 0, "opened": 0, "escalated": 0, "unregistered": 0}
    # Anna (4A):
    assert run_at(8, 50) == {"closed": 0, "opened": 1, "escalated": 0, "unregistered": 0}
    assert run_at(8, 50) == {"closed": 0, "opened": 0, "escalated": 0, "unregistered": 0}
    assert run_at(9, 30)["escalated"] == 1  # Anna, due 09:30
    assert run_at(10, 0)["opened"] == 1  # Aksel (9B), at the first break
    assert run_at(10, 0)["opened"] == 0
    assert run_at(10, 40)["escalated"] == 1
    assert run_at(10, 41)["escalated"] == 0
    assert LookupCase.objects.filter(status=Status.ESCALATED).count() == 2
    kinds = Counter(Notification.objects.values_list("kind", flat=True))
    assert kinds == {
        "absence.lookup.alert": 2,  # guardian_a, for each of the two children
        "absence.lookup.escalation": 2,
        "absence.lookup.staff_escalation": 6,  # contact teacher, leiing and kontor, per case
    }


def test_a_registration_hands_the_lookup_to_the_queue_in_its_own_transaction(world, settings):
    """The registration queues the looking-for as a task row written in its transaction:
    saved together, or not at all."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": DB_BACKEND}}
    with at(9, 0):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        [queued] = DBTaskResult.objects.all()
        assert queued.task_path == "kontaktbok.absence.tasks.look_up_registered"
        assert queued.args_kwargs["kwargs"] == {
            "day": TODAY.isoformat(),
            "absent": [world.child_a.pk],
            "arrived": [],
        }
        assert not LookupCase.objects.exists()  # the worker opens it
        assert tasks.look_up_registered.call(**queued.args_kwargs["kwargs"]) == {
            "closed": 0,
            "opened": 1,
        }
        with contextlib.suppress(RuntimeError), transaction.atomic():
            register(world.contact_teacher_a, world.class_a, {world.child_a: "present"})
            raise RuntimeError("the save fails after the registration")
    # The rolled-back registration queued nothing (the case's alerts queued their deliveries).
    assert DBTaskResult.objects.filter(task_path=queued.task_path).count() == 1
    assert LookupCase.objects.get().is_open


def test_a_case_whose_pupil_has_arrived_closes_on_the_next_tick(world):
    """Should the registration's hand-over be lost, the minute's tick closes the case of a
    pupil registered present since, and tells the guardians."""
    from kontaktbok.absence.models import AttendanceMark

    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    with at(9, 5):
        AttendanceMark.objects.filter(pupil=world.child_a).update(
            status="present", registered_at=moment(9, 5)
        )
    assert run_at(9, 6)["closed"] == 1
    assert run_at(9, 7)["closed"] == 0
    case = LookupCase.objects.get()
    assert (case.status, case.outcome, case.closed_by) == (
        Status.CLOSED,
        LookupCase.Outcome.ARRIVED,
        world.contact_teacher_a,
    )
    arrived = Notification.objects.filter(kind="absence.lookup.arrived")
    assert [n.recipient for n in arrived] == [world.guardian_a]


def test_the_scheduler_down_through_the_morning_catches_up_at_once(world):
    """Nothing ran from 08:00 to 11:00: the first tick opens the cases (their window starts
    now) and the missing registration is alerted once."""
    with at(8, 35):
        register(world.contact_teacher_b, world.class_b, {world.child_a2: "absent"})
    result = run_at(11, 0)
    assert result["opened"] == 1
    assert result["escalated"] == 0
    case = LookupCase.objects.get()
    assert (case.opened_at, case.escalate_at) == (moment(11, 0), moment(11, 40))
    assert run_at(11, 40)["escalated"] == 1
    # 4A never registered: its contact teacher and kontor were told once, at 11:00.
    missing = Notification.objects.filter(kind__startswith="absence.registration_missing")
    assert {n.recipient for n in missing} == {world.contact_teacher_a, world.office}
    assert {n.created_at for n in missing} == {moment(11, 0)}


def test_an_escalation_missed_while_the_scheduler_was_down_fires_once(world):
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    assert LookupCase.objects.get().escalate_at == moment(9, 35)
    assert run_at(10, 30)["escalated"] == 1
    assert run_at(10, 30)["escalated"] == 0
    assert run_at(10, 31)["escalated"] == 0
    assert Notification.objects.filter(kind="absence.lookup.escalation").count() == 1


def test_nothing_on_a_saturday(world):
    saturday = dt.date(2026, 11, 28)
    with at(8, 55, day=saturday):
        marked_anyway(world.contact_teacher_a, world.class_a, {world.child_a: "absent"}, saturday)
        assert tasks.look_for_missing_pupils.call() == {
            "closed": 0,
            "opened": 0,
            "escalated": 0,
            "unregistered": 0,
        }
    assert not Notification.objects.exists()


# --- several workers at once ----------------------------------------------------------------


WORKERS = 4
PUPILS = 12  # in 9B besides Aksel and Vern, each with a guardian of their own


def concurrently(function: Any, count: int = WORKERS) -> list[Any]:
    """Run ``function`` in ``count`` threads released at the same instant, each with its own
    database connection; returns their results, or raises the first error."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = function()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def gateway(settings):
    gateway = SmsGateway()
    settings.SMS_GATEWAY = "http"
    settings.SMS_URL = gateway.url
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def a_class_missing(world: Any, frozen: bool = True) -> list[Any]:
    """9B with ``PUPILS`` more pupils, each guardian with e-mail and a mobile number; all of
    9B registered absent at 08:35 (grade 9: looked for at 10:00)."""
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"phone": "+47 57 00 00 00"}
    )
    world.guardian_a.phone, world.guardian_b.phone = "+47 913 00 001", "+47 913 00 002"
    world.guardian_a.save(update_fields=["phone"])
    world.guardian_b.save(update_fields=["phone"])
    pupils = [world.child_a2, world.protected_child]
    for n in range(PUPILS):
        pupil = factories.pupil(world.class_b, f"Elev{n}")
        guardian = factories.user(f"Føresett {n}", phone=f"+47 914 00 {n:03d}")
        school_services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
        pupils.append(pupil)
    with at(8, 35) if frozen else contextlib.nullcontext():
        register(world.contact_teacher_b, world.class_b, dict.fromkeys(pupils, "absent"))
        register(world.contact_teacher_a, world.class_a, {world.child_a: "present"})
    assert not LookupCase.objects.exists()
    return pupils


def assert_each_delivery_sent_once(gateway: SmsGateway) -> None:
    rows = Delivery.objects.all()
    assert rows, "no deliveries"
    assert Counter(rows.values_list("status", flat=True)) == {"delivered": rows.count()}
    assert set(rows.values_list("attempts", flat=True)) == {1}
    sms = {f"delivery-{pk}" for pk in rows.filter(channel="sms").values_list("pk", flat=True)}
    assert Counter(r["key"] for r in gateway.received) == dict.fromkeys(sms, 1)
    emails = Counter(int(m.extra_headers["X-Kontaktbok-Delivery"]) for m in mail.outbox)
    assert emails == dict.fromkeys(rows.filter(channel="email").values_list("pk", flat=True), 1)


@pytest.mark.django_db(transaction=True)
def test_workers_racing_open_and_escalate_each_case_once(world, gateway):
    pupils = a_class_missing(world)
    guardians = {p.pk: {g.guardian_id for g in p.guardianships.all()} for p in pupils}
    # The restricted guardian of Vern is never told.
    guardians[world.protected_child.pk] = {world.guardian_b.pk}

    with at(10, 0):
        opened = concurrently(tasks.look_for_missing_pupils.call)
    # However the work fell between the workers, each case was opened by exactly one.
    assert sum(r["opened"] for r in opened) == len(pupils)
    assert LookupCase.objects.count() == len(pupils)
    assert set(LookupCase.objects.values_list("pupil_id", flat=True)) == {p.pk for p in pupils}
    alerts = Notification.objects.filter(kind="absence.lookup.alert")
    per_case = Counter(alerts.values_list("dedup_key", "recipient_id"))
    assert set(per_case.values()) == {1}
    expected = {
        (f"lookup:{case.pk}:alert", guardian)
        for case in LookupCase.objects.all()
        for guardian in guardians[case.pupil_id]
    }
    assert set(per_case) == expected
    assert_each_delivery_sent_once(gateway)
    # 9B registered, 4A registered: no alert about a missing registration.
    assert not Notification.objects.filter(kind="absence.registration_missing").exists()

    with at(10, 40):
        escalated = concurrently(lambda: lookup.escalate_due(now=clock.now()))
    assert sum(escalated) == len(pupils)
    assert LookupCase.objects.filter(status=Status.ESCALATED).count() == len(pupils)
    assert LookupCase.objects.filter(escalated_at=moment(10, 40)).count() == len(pupils)
    escalations = Notification.objects.filter(kind="absence.lookup.escalation")
    assert Counter(escalations.values_list("dedup_key", "recipient_id")) == dict.fromkeys(
        {(key.replace(":alert", ":escalation"), g) for key, g in expected}, 1
    )
    staff = Notification.objects.filter(kind="absence.lookup.staff_escalation")
    assert Counter(staff.values_list("recipient_id", flat=True)) == {
        world.contact_teacher_b.pk: len(pupils),
        world.leadership.pk: len(pupils),
        world.office.pk: len(pupils),
    }
    assert_each_delivery_sent_once(gateway)
    assert AuditEntry.objects.filter(action="absence.lookup.escalated").count() == len(pupils)
    assert AuditEntry.objects.filter(action="absence.lookup.opened").count() == len(pupils)


@pytest.mark.django_db(transaction=True)
def test_workers_racing_the_missing_registration_alert_send_it_once(world, gateway):
    world.contact_teacher_a.phone = "+47 915 00 000"
    world.contact_teacher_a.save(update_fields=["phone"])
    with at(9, 30):
        concurrently(lambda: lookup.alert_missing_registrations(now=clock.now()))
    missing = Notification.objects.filter(kind__startswith="absence.registration_missing")
    assert Counter(missing.values_list("recipient_id", "dedup_key")) == {
        (world.contact_teacher_a.pk, f"registration-missing:{world.class_a.pk}:{TODAY}"): 1,
        (world.contact_teacher_b.pk, f"registration-missing:{world.class_b.pk}:{TODAY}"): 1,
        (world.office.pk, f"registration-missing:school:{world.school.pk}:{TODAY}"): 1,
    }
    assert_each_delivery_sent_once(gateway)


@pytest.mark.django_db(transaction=True)
def test_a_teacher_and_the_ticks_racing_open_one_case(world, gateway):
    """The teacher saves 4A's registration at 08:55 (it opens Anna's case at once) while
    the scheduler's ticks run: one case, one alert."""
    world.guardian_a.phone = "+47 913 00 001"
    world.guardian_a.save(update_fields=["phone"])

    def teacher_or_tick(n: int) -> Any:
        if n == 0:
            return register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        for _ in range(20):  # keep ticking while the teacher saves
            tasks.look_for_missing_pupils.call()
        return None

    numbers = iter(range(WORKERS))
    lock = threading.Lock()

    def next_role() -> Any:
        with lock:
            n = next(numbers)
        return teacher_or_tick(n)

    with at(8, 55):
        concurrently(next_role)
    assert LookupCase.objects.filter(pupil=world.child_a).count() == 1
    assert Notification.objects.filter(kind="absence.lookup.alert").count() == 1
    assert_each_delivery_sent_once(gateway)


# --- real worker processes ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DB_BACKEND = "django_tasks_db.DatabaseBackend"
TASK = "kontaktbok.absence.tasks.look_for_missing_pupils"


class Workers:
    """``kontaktbok worker`` processes on the test database (``KONTAKTBOK_USE_TEST_DATABASE``),
    delivering SMS to the local gateway; stopped at the end."""

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
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
            ),
        }

    def start(self, name: str) -> None:
        log = self.logs / f"{name}.log"
        command = [sys.executable, "-m", "kontaktbok.cli", "worker", "--interval", "0.05"]
        command += ["--no-startup-delay", "--no-reload", "--worker-id", name]
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started.append((process, log))

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name} (exit {process.poll()}) ---\n{log.read_text(errors='replace')[-3000:]}"
            for process, log in self.started
        )

    def stop(self) -> None:
        for process, _log in self.started:
            if process.poll() is None:
                process.terminate()
        for process, _log in self.started:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def set_clock(hour: int, minute: int) -> None:
    """Move every process's clock (the demo clock file, ``worker_settings``) so that it is
    now ``hour:minute`` on the test day in Oslo; time runs on from there."""
    clock.set_demo_offset(moment(hour, minute) - dt.datetime.now(tz=dt.UTC))


class TestTwoWorkerProcesses:
    @pytest.fixture(autouse=True)
    def _school_day(self):
        """The worker processes run on the real clock, moved by the demo clock file; this
        process must too, so the suite's frozen clock is left out."""
        yield

    @pytest.fixture
    def workers(self, transactional_db, settings, gateway, tmp_path):
        settings.TASKS = {"default": {"BACKEND": DB_BACKEND}}  # enqueue writes task rows
        settings.DEMO_CLOCK_FILE = tmp_path / "demo-clock"
        started = Workers(gateway.url, tmp_path, settings.DEMO_CLOCK_FILE)
        try:
            yield started
        finally:
            started.stop()
            clock.set_demo_offset(None)

    def test_doubled_ticks_on_two_workers_alert_and_escalate_once(self, world, gateway, workers):
        from django_tasks_db.models import DBTaskResult

        set_clock(8, 35)
        pupils = a_class_missing(world, frozen=False)  # 9B absent at 08:35: looked for at 10:00
        set_clock(10, 0)
        # Two ticks in the same minute (or two schedulers): the task is queued twice. On
        # PostgreSQL the two worker processes may take one each and run them at the same
        # time; SQLite serialises their writes. Either way each case is opened once.
        tasks.look_for_missing_pupils.enqueue()
        tasks.look_for_missing_pupils.enqueue()
        workers.start("one")
        workers.start("two")

        handed = "kontaktbok.absence.tasks.look_up_registered"  # the registration's own

        def settled() -> bool:
            ticks = DBTaskResult.objects.filter(task_path__in=[TASK, handed])
            return (
                not ticks.exclude(status="SUCCESSFUL").exists()
                and Delivery.objects.exists()
                and not Delivery.objects.exclude(status="delivered").exists()
            )

        wait_until(
            settled,
            timeout=120,
            what="both ticks run and every alert delivered",
            details=workers.output,
        )
        assert LookupCase.objects.count() == len(pupils)
        # The registration's own hand-over ran too: three tasks raced for the same cases.
        ran = DBTaskResult.objects.filter(status="SUCCESSFUL", task_path__in=[TASK, handed])
        assert Counter(ran.values_list("task_path", flat=True)) == {TASK: 2, handed: 1}
        assert sum(r.return_value["opened"] for r in ran) == len(pupils)
        alerts = Notification.objects.filter(kind="absence.lookup.alert")
        assert set(Counter(alerts.values_list("recipient_id", "dedup_key")).values()) == {1}
        assert alerts.count() == len(pupils)  # one guardian told per pupil here
        sms = Delivery.objects.filter(channel="sms").values_list("pk", flat=True)
        assert Counter(r["key"] for r in gateway.received) == {f"delivery-{pk}": 1 for pk in sms}

        # Past the window (40 minutes); the workers read the clock file on every look
        # (``worker_settings``), so the ticks queued next run at 10:41.
        set_clock(10, 41)
        tasks.look_for_missing_pupils.enqueue()
        tasks.look_for_missing_pupils.enqueue()
        wait_until(
            lambda: (
                settled()
                and Notification.objects.filter(kind="absence.lookup.escalation").count()
                == len(pupils)
            ),
            timeout=120,
            what="both ticks run and every escalation delivered",
            details=workers.output,
        )
        ticks = DBTaskResult.objects.filter(task_path=TASK).order_by("enqueued_at")
        assert sum(r.return_value["escalated"] for r in ticks) == len(pupils)
        assert LookupCase.objects.filter(status=Status.ESCALATED).count() == len(pupils)
        escalations = Notification.objects.filter(kind="absence.lookup.escalation")
        assert set(Counter(escalations.values_list("recipient_id", "dedup_key")).values()) == {1}
        staff = Notification.objects.filter(kind="absence.lookup.staff_escalation")
        assert staff.count() == 3 * len(pupils)  # contact teacher, leiing, kontor; once per case
        sms = Delivery.objects.filter(channel="sms").values_list("pk", flat=True)
        assert Counter(r["key"] for r in gateway.received) == {f"delivery-{pk}": 1 for pk in sms}
        workers_used = Counter(w for r in ticks for w in r.worker_ids)
        assert set(workers_used) <= {"one", "two"}


@pytest.mark.django_db(transaction=True)
def test_two_teachers_saving_the_arrival_at_once_close_the_case_once(world, gateway):
    """Anna is registered present for lessons 2, 3, 4 and 5 at the same moment (teachers
    of different lessons, each their own registration): the case closes once and the
    guardians are told once."""
    world.guardian_a.phone = "+47 913 00 001"
    world.guardian_a.save(update_fields=["phone"])
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    lessons = iter(range(2, 2 + WORKERS))
    lock = threading.Lock()

    def arrival() -> Any:
        with lock:
            lesson = next(lessons)
        return services.attendance_register(
            actor=world.contact_teacher_a,
            group_id=world.class_a.pk,
            date=TODAY,
            lesson=lesson,
            marks=[services.Mark(world.child_a.pk, "present")],
        )

    with at(9, 20):
        concurrently(arrival)
    case = LookupCase.objects.get()
    assert (case.status, case.outcome) == (Status.CLOSED, "arrived")
    assert AuditEntry.objects.filter(action="absence.lookup.closed").count() == 1
    assert Notification.objects.filter(kind="absence.lookup.arrived").count() == 1
    assert_each_delivery_sent_once(gateway)
