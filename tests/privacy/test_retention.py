"""The retention run on a frozen clock across school-year ends: it deletes exactly what is
due and keeps what the archive must have first."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from kontaktbok.absence.models import AbsenceReport, AttendanceMark, LookupCase
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.messaging.models import Message, Participant, Thread
from kontaktbok.notifications.models import Notification
from kontaktbok.privacy import retention
from kontaktbok.schools import services
from kontaktbok.schools.models import AbsenceType

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 10)


def moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9)))


@pytest.fixture
def records(world):
    """A school year 2026–2027 of records at school A, and the two years after it."""
    for name, start, end in (
        ("2027–2028", dt.date(2027, 8, 16), dt.date(2028, 6, 16)),
        ("2028–2029", dt.date(2028, 8, 14), dt.date(2029, 6, 15)),
    ):
        services.school_year_create(
            actor=None, school=world.school, name=name, starts_on=start, ends_on=end
        )
    at = moment(NOVEMBER)
    kind = AbsenceType.objects.filter(school=world.school).first()
    report = AbsenceReport.objects.create(
        pupil=world.child_a,
        school=world.school,
        absence_type=kind,
        start_date=NOVEMBER,
        end_date=NOVEMBER,
        comment="Vondt i magen",
        created_at=at,
        updated_at=at,
    )
    mark = AttendanceMark.objects.create(
        pupil=world.child_a,
        group=world.class_a,
        date=NOVEMBER,
        status="absent",
        registered_at=at,
    )
    quiet, escalated = (
        LookupCase.objects.create(
            pupil=pupil,
            school=world.school,
            group=world.class_a,
            date=NOVEMBER,
            registered_at=at,
            opened_at=at,
            escalate_at=at,
            escalated_at=when,
        )
        for pupil, when in ((world.child_a, None), (world.child_b, at))
    )
    thread = Thread.objects.create(
        school=world.school,
        pupil=world.child_a,
        subject="Tur",
        created_by=world.guardian_a,
        created_at=at,
        last_message_at=at,
    )
    Participant.objects.create(
        thread=thread, user=world.guardian_a, side="guardian", role="guardian", joined_at=at
    )
    Message.objects.create(thread=thread, author=world.guardian_a, body="Hei", created_at=at)
    note = Notification.objects.create(
        recipient=world.guardian_a, kind="notifications.test", dedup_key="x", created_at=at
    )
    return {
        "report": report,
        "mark": mark,
        "quiet": quiet,
        "escalated": escalated,
        "thread": thread,
        "note": note,
    }


def exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


def left(records) -> set[str]:
    return {name for name, obj in records.items() if exists(obj)}


def test_the_run_deletes_what_is_due_across_school_year_ends(records):
    everything = set(records)
    # Before the next school year: only the notification (90 days) is due.
    assert left(records) == everything
    retention.run(dt.date(2027, 8, 1))
    assert left(records) == everything - {"note"}
    # The next year has begun: the report's reason and the quiet lookup go; the escalated
    # lookup is the archive's and waits for its receipt.
    retention.run(dt.date(2027, 8, 20))
    assert left(records) == {"mark", "escalated", "thread"}
    # A year later still: the messages go; the attendance waits for the archive.
    outcomes = {o.rule.code: o for o in retention.run(dt.date(2028, 8, 20))}
    assert left(records) == {"mark", "escalated"}
    assert (outcomes["attendance"].due, outcomes["attendance"].held) == (1, 1)
    assert outcomes["attendance"].deleted == 0 and outcomes["messages"].deleted == 1
    entry = AuditEntry.objects.filter(action="privacy.retention.run").latest("id")
    assert entry.detail["messages"] == {"deleted": 1, "held": 0}
    assert "Vondt" not in str(entry.detail)


def test_a_dry_run_counts_and_deletes_nothing(records):
    outcomes = {o.rule.code: o for o in retention.run(dt.date(2027, 8, 20), dry_run=True)}
    assert outcomes["absence_reports"].due == 1 and outcomes["absence_reports"].deleted == 0
    assert outcomes["lookup_cases"].due == 2 and outcomes["lookup_cases"].held == 1
    assert left(records) == set(records)
    assert not AuditEntry.objects.filter(action="privacy.retention.run").exists()


def test_every_rule_says_how_long_from_what_and_why():
    for rule in retention.RULES:
        assert str(rule.kind) and str(rule.kept) and str(rule.archive) and str(rule.basis)
    assert len({rule.code for rule in retention.RULES}) == len(retention.RULES)


def test_today_is_the_schools_clock(records):
    assert retention.run(dry_run=True)  # runs on clock.today() without a day given
    assert clock.today()


def test_the_command_prints_the_rules_counts(records):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("retention", "--dry-run", "--date", "2027-08-20", stdout=out)
    lines = {line.split()[0]: line.split()[1:] for line in out.getvalue().splitlines()[1:]}
    assert lines["lookup_cases"] == ["-", "2", "1", "1"]
    assert lines["notifications"][0] == "90"
    assert exists(records["report"])


def test_the_daily_task_is_scheduled_and_runs(records):
    from kontaktbok.core.scheduler import registered
    from kontaktbok.privacy import tasks

    assert any(p.task is tasks.retention_run and p.every_minutes == 1440 for p in registered())
    assert "notifications" in tasks.retention_run.call()


def test_the_retention_table_is_shown_to_everyone_signed_in(world, client):
    from django.urls import reverse

    client.force_login(world.guardian_a)
    page = client.get(reverse("retention_table")).content.decode()
    assert page.count('data-testid="rule"') == len(retention.RULES)


def test_a_legal_hold_keeps_a_pupils_records_until_it_is_lifted(records, world):
    hold = retention.legal_hold_set(actor=None, pupil=world.child_a, reason="Klage til fylket")
    assert retention.legal_hold_set(actor=None, pupil=world.child_a, reason="igjen") == hold
    outcomes = {o.rule.code: o for o in retention.run(dt.date(2027, 8, 20))}
    # Kari's report and quiet lookup are due, but held; Ola's escalated lookup as before.
    assert exists(records["report"]) and exists(records["quiet"])
    assert outcomes["absence_reports"].held == 1 and outcomes["absence_reports"].deleted == 0
    assert retention.legal_hold_lift(actor=None, pupil=world.child_a) == 1
    retention.run(dt.date(2027, 8, 20))
    assert not exists(records["report"]) and not exists(records["quiet"])
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"privacy.legal_hold.set", "privacy.legal_hold.lifted"} <= actions
    with pytest.raises(ValidationError):
        retention.legal_hold_set(actor=None, pupil=world.child_a, reason=" ")


def test_the_municipality_chooses_days_within_the_bounds(records, world, client):
    from django.conf import settings
    from django.urls import reverse

    retention.run(dt.date(2027, 1, 20))  # 71 days after: the notification is kept (90)
    assert exists(records["note"])
    retention.retention_choose(actor=None, code="notifications", days=60)
    retention.run(dt.date(2027, 1, 20))
    assert not exists(records["note"])
    entry = AuditEntry.objects.get(action="privacy.retention.chosen")
    assert entry.detail == {"rule": "notifications", "from": 90, "to": 60}
    for code, days in (("notifications", 7), ("audit", 100), ("leave", 10), ("nothing", 9)):
        with pytest.raises(ValidationError):
            retention.retention_choose(actor=None, code=code, days=days)
    client.force_login(world.guardian_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert ">60 days<" in client.get(reverse("retention_table")).content.decode()


def test_the_commands_choose_and_hold(records, world):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("retention", "--choose", "sink=14", stdout=out)
    assert retention.days_chosen()["sink"] == 14
    call_command("retention", "--hold", str(world.child_a.pk), "--reason", "Sak", stdout=out)
    assert world.child_a.legal_holds.filter(lifted_at=None).exists()
    call_command("retention", "--lift", str(world.child_a.pk), stdout=out)
    assert not world.child_a.legal_holds.filter(lifted_at=None).exists()
    for args in (("--choose", "sink=x"), ("--choose", "sink=400"), ("--hold", "999999")):
        with pytest.raises(CommandError):
            call_command("retention", *args, stdout=out)


def test_old_audit_days_go_whole_and_the_rest_still_verifies(db):
    from kontaktbok.core import audit_seal
    from kontaktbok.core.audit import audit_log

    def write(day: dt.date) -> AuditEntry:
        with time_machine.travel(moment(day), tick=False):
            return audit_log(actor=None, action="test.thing.done", detail={"day": str(day)})

    old = [write(dt.date(2022, 3, 1)), write(dt.date(2022, 3, 1))]
    young = write(dt.date(2025, 3, 1))
    with time_machine.travel(moment(dt.date(2026, 11, 24)), tick=False):
        audit_seal.seal_pending()
        outcomes = {o.rule.code: o for o in retention.run(dt.date(2026, 11, 24))}
    assert outcomes["audit"].deleted == 2
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEntry.objects.filter(pk=young.pk).exists()
    kept = audit_seal.verify_day(dt.date(2025, 3, 1))
    assert kept.rows == 1 and kept.broken is None
    assert audit_seal.sealed_days()[0] == dt.date(2025, 3, 1)


def test_the_database_refuses_to_delete_a_young_audit_entry_even_on_the_retention_path(db):
    from kontaktbok.core.audit import audit_log

    entry = audit_log(actor=None, action="test.thing.done")
    retention._delete_audit_entries([entry.pk])  # younger than a year: not deleted
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    if connection.vendor != "postgresql":
        return
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL kontaktbok.audit_retention = 'on'")
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])


def test_expired_sessions_and_old_finished_tasks_go(db):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django_tasks_db.models import DBTaskResult

    from kontaktbok.privacy import tasks

    store = SessionStore()
    store["x"] = 1
    store.set_expiry(60)
    store.create()
    tasks.retention_run.enqueue()
    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=moment(dt.date(2026, 9, 1)))
    outcomes = {o.rule.code: o for o in retention.run(dt.date(2026, 12, 24))}
    assert outcomes["sessions"].deleted == 1 and not Session.objects.exists()
    assert outcomes["tasks"].deleted == DBTaskResult.objects.count() + outcomes["tasks"].deleted
    assert not DBTaskResult.objects.exists()


def _task_row(status: str, finished_days_ago: float | None):
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    finished = None if finished_days_ago is None else now - dt.timedelta(days=finished_days_ago)
    return DBTaskResult.objects.create(
        status=status,
        finished_at=finished,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="kontaktbok.core.tasks.clear_expired_sessions",
        backend_name="default",
        run_after=now,
        exception_class_path="",
        traceback="",
    )


def test_finished_task_rows_go_after_their_days_and_waiting_ones_never(db):
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    old_done = _task_row(TaskResultStatus.SUCCESSFUL, 9)
    old_failed = _task_row(TaskResultStatus.FAILED, 9)
    recent = _task_row(TaskResultStatus.SUCCESSFUL, 1)
    waiting = _task_row(TaskResultStatus.READY, None)
    running = _task_row(TaskResultStatus.RUNNING, None)
    outcome = next(o for o in retention.run() if o.rule.code == "tasks")
    assert (outcome.days, outcome.deleted) == (7, 2)
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert {recent.pk, waiting.pk, running.pk} <= left
    assert not {old_done.pk, old_failed.pk} & left


def test_delivered_content_and_submissions_go_only_after_the_receipt_and_their_days(
    world, settings
):
    from kontaktbok.archive.models import ArchiveDelivery, ArchiveDocument
    from kontaktbok.submissions.models import Submission
    from tests.archive.conftest import deliver
    from tests.archive.helpers import receipt, school_unit

    settings.FIKS_IO_API_URL = ""  # the deliveries stay queued: the test answers as the archive
    unit = school_unit(world.school, "PPT")
    waiting, archived = deliver(unit), deliver(unit)
    receipt(archived)
    for code, delivery in (("KB-AAAA-AA", waiting), ("KB-BBBB-BB", archived)):
        Submission.objects.create(
            code=code,
            sender=world.guardian_a,
            unit=unit,
            delivery=delivery,
            receipt_channel="none",
            created_at=delivery.created_at,
        )

    def outcomes(days_on: int) -> dict[str, retention.Outcome]:
        day = clock.today() + dt.timedelta(days=days_on)
        return {
            o.rule.code: o
            for o in retention.run(day)
            if o.rule.code in {"archive_content", "submissions"}
        }

    month = outcomes(31)
    assert (month["archive_content"].due, month["archive_content"].held) == (2, 1)
    assert month["archive_content"].deleted == 1 and month["submissions"].due == 0
    assert ArchiveDocument.objects.filter(delivery=archived, data__isnull=False).count() == 0
    assert ArchiveDocument.objects.filter(delivery=waiting, data__isnull=False).count() == 2
    year = outcomes(367)
    assert (year["submissions"].due, year["submissions"].held) == (2, 1)
    assert year["submissions"].deleted == 1
    assert set(Submission.objects.values_list("code", flat=True)) == {"KB-AAAA-AA"}
    assert not ArchiveDelivery.objects.filter(pk=archived.pk).exists()
    assert AuditEntry.objects.filter(action="submissions.submission.removed").count() == 1
