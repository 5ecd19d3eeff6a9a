"""Closing: the whole log as one PDF/A stored encrypted, read-only at once; the archive
hand-off is re-sent with the same client message id; removal only after the receipt and
the retention time."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.relaylog import closing, services, tasks
from kontaktbok.relaylog.models import ClosedDocument, Entry, RelayLog
from tests.leave.test_pdf import text_of
from tests.relaylog.helpers import consented, open_log, with_nurse

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_log(world) -> RelayLog:
    log = consented(world)
    with_nurse(world, log)
    goal = services.goal_add(actor=world.leadership, log_id=log.pk, text="Kome på skulen")
    measure = services.measure_add(
        actor=world.leadership,
        log_id=log.pk,
        goal_id=goal.pk,
        text="Henting om morgonen",
        responsible="Kontaktlærar",
        deadline=clock.today() + dt.timedelta(days=30),
        evaluate_on=clock.today() + dt.timedelta(days=14),
    )
    services.evaluation_add(
        actor=world.leadership,
        log_id=log.pk,
        measure_id=measure.pk,
        text="Går betre",
        outcome="continue",
    )
    services.entry_add(actor=world.guardian_a, log_id=log.pk, body="Møte med helsestasjonen")
    return log


def test_the_holder_closes_and_the_whole_log_is_one_pdfa_stored_encrypted(world, full_log):
    closing.log_close(actor=world.leadership, log_id=full_log.pk, reason="goals_met")
    full_log.refresh_from_db()
    assert full_log.state == RelayLog.State.CLOSED
    assert full_log.archive_state == RelayLog.Archive.WAITING
    document = ClosedDocument.objects.get(log=full_log)
    assert b"%PDF" not in bytes(document.ciphertext)
    pdf = closing.document_bytes(full_log)
    text = text_of(pdf)
    for expected in (
        "Aksel",
        "Mykje fråvær",
        "Helsestasjon",
        "Kome på skulen",
        "Henting om morgonen",
        "Går betre",
        "Møte med helsestasjonen",
        "Guardian A",
        "Principal",
    ):
        assert expected in text, expected
    metadata = PdfReader(io.BytesIO(pdf)).xmp_metadata
    assert metadata is not None
    xml = metadata.stream.get_data().decode()
    assert "pdfaid:part" in xml and "3" in xml


def test_a_closed_log_is_read_only_at_once(world, full_log):
    closing.log_close(actor=world.leadership, log_id=full_log.pk, reason="goals_met")
    writes = [
        lambda: services.entry_add(actor=world.guardian_a, log_id=full_log.pk, body="x"),
        lambda: services.goal_add(actor=world.leadership, log_id=full_log.pk, text="x"),
        lambda: services.consent_give(
            actor=world.guardian_a, log_id=full_log.pk, service="PPT", language="nn"
        ),
        lambda: services.level_decide(actor=world.leadership, log_id=full_log.pk, level=2),
        lambda: closing.log_close(actor=world.guardian_a, log_id=full_log.pk, reason="other"),
    ]
    entries = Entry.objects.count()
    for write in writes:
        with pytest.raises(ValidationError):
            write()
    assert Entry.objects.count() == entries


def test_a_guardian_can_close_at_any_time_a_staff_member_only_as_holder(world):
    log = open_log(world)  # a draft: nobody has consented yet
    services.participant_invite(
        actor=world.leadership, log_id=log.pk, kind="staff", user_id=world.contact_teacher_b.pk
    )
    with pytest.raises(PermissionDenied):
        closing.log_close(actor=world.contact_teacher_b, log_id=log.pk, reason="goals_met")
    closing.log_close(actor=world.guardian_a, log_id=log.pk, reason="goals_met")
    log.refresh_from_db()
    assert log.close_reason == RelayLog.CloseReason.GUARDIANS
    assert log.closed_by_id == world.guardian_a.pk


def test_a_killed_worker_resends_with_the_same_client_message_id(world, full_log, monkeypatch):
    sent = []
    monkeypatch.setattr(
        closing, "hand_to_archive", lambda log: sent.append(log.archive_message_id) or True
    )
    closing.log_close(actor=world.leadership, log_id=full_log.pk, reason="goals_met")
    full_log.refresh_from_db()
    # The task ran on commit; the worker "died" before the receipt: the sweep sends again.
    tasks.resend_waiting.call()
    tasks.deliver_to_archive.call(log_id=full_log.pk)
    assert len(sent) >= 2 and set(sent) == {full_log.archive_message_id}
    closing.archive_receipt_record(
        log_id=full_log.pk, receipt="arkiv-123", message_id=full_log.archive_message_id
    )
    sent.clear()
    tasks.resend_waiting.call()
    tasks.deliver_to_archive.call(log_id=full_log.pk)
    assert sent == []  # received: never sent again


def test_the_receipt_must_be_for_this_delivery_and_counts_once(world, full_log):
    import uuid

    closing.log_close(actor=world.leadership, log_id=full_log.pk, reason="goals_met")
    full_log.refresh_from_db()
    with pytest.raises(ValidationError):
        closing.archive_receipt_record(log_id=full_log.pk, receipt="x", message_id=uuid.uuid4())
    first = closing.archive_receipt_record(
        log_id=full_log.pk, receipt="arkiv-1", message_id=full_log.archive_message_id
    )
    again = closing.archive_receipt_record(
        log_id=full_log.pk, receipt="arkiv-2", message_id=full_log.archive_message_id
    )
    assert first.archive_receipt == again.archive_receipt == "arkiv-1"
    assert AuditEntry.objects.filter(action="relaylog.log.archived").count() == 1


def test_removal_only_after_the_receipt_and_the_retention_time(world, full_log, time_machine):
    """The retention rule ``relay_logs`` (30 days after the receipt by default) removes
    a log only once the archive's receipt is stored and old enough."""
    from kontaktbok.privacy import retention

    waiting = consented(world, world.child_b)
    closing.log_close(actor=world.guardian_b, log_id=waiting.pk, reason="guardians")
    closing.log_close(actor=world.leadership, log_id=full_log.pk, reason="goals_met")
    full_log.refresh_from_db()
    closing.archive_receipt_record(
        log_id=full_log.pk, receipt="arkiv-1", message_id=full_log.archive_message_id
    )

    def relay_logs() -> retention.Outcome:
        return next(o for o in retention.run() if o.rule.code == "relay_logs")

    time_machine.move_to("2026-12-20 09:00 +0100")  # 26 days after the receipt
    assert relay_logs().deleted == 0
    time_machine.move_to("2027-06-01 09:00 +0100")
    outcome = relay_logs()
    assert (outcome.due, outcome.held, outcome.deleted) == (2, 1, 1)
    assert not RelayLog.objects.filter(pk=full_log.pk).exists()
    assert not Entry.objects.filter(log_id=full_log.pk).exists()
    assert RelayLog.objects.filter(pk=waiting.pk).exists()  # no receipt: kept
    assert AuditEntry.objects.filter(action="relaylog.log.removed").count() == 1


def test_a_closed_log_goes_through_the_archive_app_and_its_receipt_comes_back(
    world, full_log, settings
):
    """The real hand-off: one delivery per log (re-sends find the same one), and the
    archive's kvittering marks the log as archived."""

    from kontaktbok.archive.models import ArchiveDelivery
    from tests.archive.helpers import receipt, school_unit

    settings.FIKS_IO_API_URL = ""  # stays queued: the test answers for the archive
    closing.log_close(actor=world.leadership, log_id=full_log.pk, reason="goals_met")
    assert closing.deliver(log_id=full_log.pk) is False  # no unit yet: the log waits
    assert not ArchiveDelivery.objects.exists()
    unit = school_unit(world.school)
    assert closing.deliver(log_id=full_log.pk) and closing.deliver(log_id=full_log.pk)
    delivery = ArchiveDelivery.objects.get()  # twice handed over, one delivery
    full_log.refresh_from_db()
    assert delivery.source == "relaylog" and delivery.unit == unit and delivery.confidential
    assert delivery.external_key == f"relaylog:{full_log.archive_message_id}"
    receipt(delivery)
    full_log.refresh_from_db()
    assert full_log.archive_state == RelayLog.Archive.RECEIVED
    assert full_log.archive_receipt
    assert not closing.deliver(log_id=full_log.pk)  # received: never again
