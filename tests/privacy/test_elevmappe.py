"""The pupil's year-end document (elevmappe): after the school year, each pupil with marks
or a leave case gets one delivery to the school's archive unit with the year's attendance
and absence and the leave decision letters; the year's marks and leave cases are deleted
by the retention run only after the archive's receipt for it is stored."""

import datetime as dt

import pytest
from django.utils import timezone

from kontaktbok.absence.models import AttendanceMark
from kontaktbok.archive.models import ArchiveDelivery
from kontaktbok.core.models import AuditEntry
from kontaktbok.leave.models import LeaveApplication
from kontaktbok.messaging import files as sealed
from kontaktbok.privacy import elevmappe, retention, tasks
from kontaktbok.privacy.models import YearRecord
from kontaktbok.schools.models import SchoolYear
from tests.archive.helpers import receipt, school_unit
from tests.leave.helpers import apply, decide
from tests.leave.test_pdf import text_of

pytestmark = pytest.mark.django_db

SUMMER = dt.date(2027, 7, 1)  # the school year 2026–2027 is over


@pytest.fixture
def year_of_records(world, settings):
    """Aksel's sister's absence on a November day and a decided leave in January."""
    settings.FIKS_IO_API_URL = ""  # the deliveries stay queued: the test answers as the archive
    at = timezone.make_aware(dt.datetime(2026, 11, 10, 9))
    mark = AttendanceMark.objects.create(
        pupil=world.child_a,
        group=world.class_a,
        date=dt.date(2026, 11, 10),
        status="absent",
        staff_reason="Tannlege",
        registered_at=at,
    )
    application = apply(world)
    decide(world, application)
    return mark, application


def test_nothing_is_handed_over_before_the_year_is_over_or_without_a_unit(world, year_of_records):
    assert elevmappe.year_records_deliver(SUMMER) == 0  # no archive unit yet
    school_unit(world.school)
    assert elevmappe.year_records_deliver(dt.date(2027, 6, 1)) == 0  # the year goes on
    assert not YearRecord.objects.exists()


def test_one_document_per_pupil_and_year_with_the_attendance_and_the_letters(
    world, year_of_records
):
    school_unit(world.school)
    year = SchoolYear.objects.get(school=world.school, starts_on=dt.date(2026, 8, 17))
    assert elevmappe.pupil_years_due(SUMMER) == [(world.child_a.pk, year.pk)]
    assert elevmappe.year_records_deliver(SUMMER) == 1
    assert elevmappe.year_records_deliver(SUMMER) == 0  # handed over once
    record = YearRecord.objects.get()
    delivery = record.delivery
    assert delivery.source == "elevmappe" and delivery.state == ArchiveDelivery.State.QUEUED
    assert delivery.confidential  # screened in the archive whatever the unit says
    assert delivery.external_key == f"elevmappe:{world.child_a.pk}:{year.pk}"
    main, letter = [
        sealed.decrypt(bytes(d.data), name=str(d.uuid)) for d in delivery.documents.all()
    ]
    text = text_of(main)
    for expected in (world.child_a.full_name, "2026–2027", "10.11.2026", "Tannlege"):
        assert expected in text
    assert text_of(letter)  # the decision letter, as the guardians got it
    assert AuditEntry.objects.filter(action="privacy.year_record.handed").count() == 1


def test_the_years_records_are_deleted_only_after_the_archives_receipt(world, year_of_records):
    mark, application = year_of_records
    school_unit(world.school)
    for name, start, end in (
        ("2027–2028", dt.date(2027, 8, 16), dt.date(2028, 6, 16)),
        ("2028–2029", dt.date(2028, 8, 14), dt.date(2029, 6, 15)),
    ):
        SchoolYear.objects.create(school=world.school, name=name, starts_on=start, ends_on=end)
    elevmappe.year_records_deliver(SUMMER)
    later = dt.date(2028, 8, 20)  # marks: a later year began a year ago; leave: due
    outcomes = {o.rule.code: o for o in retention.run(later)}
    assert (outcomes["attendance"].due, outcomes["attendance"].held) == (1, 1)
    assert outcomes["leave"].held == outcomes["leave"].due >= 1
    assert AttendanceMark.objects.filter(pk=mark.pk).exists()
    receipt(YearRecord.objects.get().delivery)
    record = YearRecord.objects.get()
    assert record.archived_at is not None and record.reference
    outcomes = {o.rule.code: o for o in retention.run(later)}
    assert outcomes["attendance"].deleted == 1 and outcomes["attendance"].held == 0
    assert not AttendanceMark.objects.filter(pk=mark.pk).exists()
    assert not LeaveApplication.objects.filter(pk=application.pk).exists()


def test_the_hourly_task_is_scheduled(world, year_of_records):
    from kontaktbok.core.scheduler import registered

    assert any(p.task is tasks.deliver_year_records for p in registered())
