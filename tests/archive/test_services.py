import datetime as dt
import uuid

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kontaktbok.archive import arkivmelding, services, standin
from kontaktbok.archive.models import ArchiveAnswer, ArchiveDelivery, ArchiveDocument
from kontaktbok.core.models import AuditEntry
from kontaktbok.messaging import files as sealed
from kontaktbok.notifications.models import Notification
from tests import factories
from tests.archive.conftest import deliver

State = ArchiveDelivery.State


def test_deliver_stores_encrypted_with_an_audit_entry_and_stays_queued(unit):
    delivery = deliver(unit)
    assert delivery.state == State.QUEUED
    documents = list(ArchiveDocument.objects.filter(delivery=delivery).order_by("number"))
    assert [d.role for d in documents] == ["H", "V"]
    assert b"%PDF" not in bytes(documents[0].data)
    assert sealed.decrypt(bytes(documents[0].data), name=str(documents[0].uuid)) == b"%PDF-1.7 x"
    assert b"974760673" not in bytes(delivery.sender_identifier)
    assert services.sender_identifier(delivery) == "974760673"
    assert AuditEntry.objects.filter(
        action="archive.delivery.queued", object_id=str(delivery.pk)
    ).exists()
    assert delivery.case_number == "2026/587"


def test_the_same_external_key_gives_the_same_delivery(unit):
    first = deliver(unit, key="submission:1")
    again = deliver(unit, key="submission:1", title="Anna")
    assert again.pk == first.pk and again.client_message_id == first.client_message_id
    assert ArchiveDelivery.objects.count() == 1


def test_refuses_what_the_archive_would_not_take(unit):
    with pytest.raises(ValidationError):
        deliver(
            unit, documents=[services.Document("x", "x.exe", "application/x-msdownload", b"MZ")]
        )
    with pytest.raises(ValidationError):
        deliver(unit, title="   ")
    unit.office_documents = False
    unit.save()
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    with pytest.raises(ValidationError):
        deliver(unit, documents=[services.Document("x", "x.docx", docx, b"PK")])
    assert ArchiveDelivery.objects.count() == 0


def _sent(delivery: ArchiveDelivery) -> uuid.UUID:
    from kontaktbok.archive import delivery as worker

    claimed = worker.claim(delivery.pk)
    message_id = uuid.uuid4()
    services.delivery_mark_sent(delivery_id=delivery.pk, claimed_at=claimed, message_id=message_id)
    return message_id


def test_mottatt_then_kvittering_registers_and_tells_the_sender(unit):
    citizen = factories.user("Åse Ødegård", phone="+4798765432")
    delivery = deliver(unit, notify_user=citizen)
    message_id = _sent(delivery)
    services.answer_record(
        message_id=uuid.uuid4(), message_type=arkivmelding.MOTTATT,
        sender_account=unit.fiks_account_id, in_reply_to=message_id,
        client_message_id=None, payload=b"",
    )  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.state == State.RECEIVED
    receipt = standin.receipt_xml(year=2026, sequence=1234, post=3, created=True, external_key="k")
    answer_id = uuid.uuid4()
    for _twice in range(2):  # a redelivered answer changes nothing
        services.answer_record(
            message_id=answer_id, message_type=arkivmelding.KVITTERING,
        sender_account=unit.fiks_account_id, in_reply_to=message_id,
            client_message_id=None, payload=receipt,
        )  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.state == State.ARCHIVED
    assert delivery.journal_reference == "2026/587-3"
    assert delivery.journal_sequence == 1234
    [notice] = Notification.objects.filter(recipient=citizen, kind="archive.archived")
    assert notice.payload == {"code": "KB-7Q4M-2C", "reference": "2026/587-3"}


def test_an_answer_before_the_send_is_recorded_waits_for_it(unit):
    delivery = deliver(unit)
    message_id = uuid.uuid4()
    services.answer_record(
        message_id=uuid.uuid4(), message_type=arkivmelding.KVITTERING,
        sender_account=unit.fiks_account_id, in_reply_to=message_id,
        client_message_id=None,
        payload=standin.receipt_xml(year=2026, sequence=9, post=1, created=True, external_key="k"),
    )  # fmt: skip
    assert ArchiveAnswer.objects.get().delivery is None
    from kontaktbok.archive import delivery as worker

    claimed = worker.claim(delivery.pk)
    services.delivery_mark_sent(delivery_id=delivery.pk, claimed_at=claimed, message_id=message_id)
    delivery.refresh_from_db()
    assert delivery.state == State.ARCHIVED


@pytest.mark.parametrize(
    "kind", [arkivmelding.UGYLDIG, arkivmelding.SERVERFEIL, *arkivmelding.FIKSIO_SERVERFEIL]
)
def test_an_error_answer_fails_and_alerts_the_units_staff(unit, kind):
    delivery = deliver(unit)
    message_id = _sent(delivery)
    payload = standin.error_xml(kind, "F-1", "tittel manglar") if "arkiv" in kind else b""
    services.answer_record(
        message_id=uuid.uuid4(), message_type=kind,
        sender_account=unit.fiks_account_id, in_reply_to=message_id,
        client_message_id=None, payload=payload,
    )  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert kind in delivery.failure_reason
    staff = unit.responsible_staff.get()
    assert Notification.objects.filter(recipient=staff, kind="archive.delivery_failed").count() == 1


def test_no_answer_in_time_fails_and_alerts(unit, settings):
    settings.ARCHIVE_ANSWER_TIMEOUT_MINUTES = 60
    delivery = deliver(unit)
    _sent(delivery)
    assert services.deliveries_time_out() == 0
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61), tick=False):
        assert services.deliveries_time_out() == 1
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert Notification.objects.filter(kind="archive.delivery_failed").count() == 1


def test_resend_keeps_the_client_message_id(unit):
    delivery = deliver(unit)
    services.delivery_fail(delivery_id=delivery.pk, reason="serverfeil")
    delivery.refresh_from_db()
    again = services.delivery_resend(actor=factories.user(), delivery=delivery)
    assert again.state == State.QUEUED and again.client_message_id == delivery.client_message_id
    with pytest.raises(ValidationError):
        services.delivery_resend(actor=None, delivery=again)


def test_content_is_deleted_only_from_deliveries_the_archive_has(unit):
    """The retention run's deletion (rule ``archive_content``, tried with its days in
    tests/privacy/test_retention.py) never empties a delivery without a receipt."""
    waiting = deliver(unit)
    archived = deliver(unit)
    message_id = _sent(archived)
    services.answer_record(
        message_id=uuid.uuid4(), message_type=arkivmelding.KVITTERING,
        sender_account=unit.fiks_account_id, in_reply_to=message_id,
        client_message_id=None,
        payload=standin.receipt_xml(year=2026, sequence=5, post=2, created=True, external_key="k"),
    )  # fmt: skip
    services.contents_delete([waiting.pk, archived.pk])
    archived.refresh_from_db()
    waiting.refresh_from_db()
    assert archived.content_deleted_at is not None and archived.sender_identifier is None
    assert archived.journal_reference == "2026/587-2" and archived.title
    assert not ArchiveDocument.objects.filter(delivery=archived, data__isnull=False).exists()
    assert ArchiveDocument.objects.filter(delivery=waiting, data__isnull=False).count() == 2
    assert waiting.content_deleted_at is None


def test_a_transient_send_error_backs_off_then_fails_and_alerts(unit, settings):
    from kontaktbok.archive import delivery as worker

    settings.FIKS_IO_API_URL = "http://127.0.0.1:1"  # nothing listens
    settings.MASKINPORTEN_TOKEN_URL = "http://127.0.0.1:1/token"
    settings.ARCHIVE_MAX_ATTEMPTS = 3
    delivery = deliver(unit)  # the first try runs after the commit
    delivery.refresh_from_db()
    assert delivery.state == State.QUEUED and delivery.attempts == 1
    first_due = delivery.due_at
    assert first_due > delivery.created_at
    assert worker.send(delivery.pk) is None  # not due yet: nobody sends it early
    for attempt in (2, 3):
        with time_machine.travel(delivery.due_at + dt.timedelta(seconds=1), tick=False):
            worker.send(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
    assert delivery.state == State.FAILED and "gave up" in delivery.failure_reason
    assert Notification.objects.filter(kind="archive.delivery_failed").count() == 1
    assert str(delivery.client_message_id)  # the same id throughout


def test_an_answer_from_another_account_changes_nothing(unit):
    delivery = deliver(unit)
    message_id = _sent(delivery)
    services.answer_record(
        message_id=uuid.uuid4(), message_type=arkivmelding.KVITTERING,
        sender_account=uuid.uuid4(), in_reply_to=message_id, client_message_id=None,
        payload=standin.receipt_xml(year=2026, sequence=1, post=1, created=True, external_key="k"),
    )  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.state == State.SENT
    assert ArchiveAnswer.objects.get().delivery is None
    assert AuditEntry.objects.filter(action="archive.answer.foreign").exists()


def test_a_confidential_delivery_is_screened_at_a_unit_that_screens_nothing(unit):
    """A relay log or a pupil's year-end document is screened (skjerming) whatever the
    unit's own setting."""
    unit.confidential = False
    unit.save(update_fields=["confidential"])

    def xml(delivery) -> str:
        documents = list(ArchiveDocument.objects.filter(delivery=delivery).order_by("number"))
        return arkivmelding.build(services.journal_entry(delivery, documents)).decode()

    plain, screened = deliver(unit), deliver(unit, confidential=True)
    assert "skjerming" not in xml(plain)
    assert "<skjermingshjemmel>Offl. § 13 jf. fvl. § 13</skjermingshjemmel>" in xml(screened)
