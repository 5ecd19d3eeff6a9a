"""The retention run on a frozen clock across school-year ends: it deletes exactly what is
due and keeps what the archive must have first."""

import datetime as dt

import pytest
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
    assert lines["lookup_cases"] == ["2", "1", "1"]
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
