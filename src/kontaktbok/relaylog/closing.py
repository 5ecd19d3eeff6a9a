"""Closing a relay log: the whole log as one PDF/A, stored encrypted, the log read-only at
once; then the hand-off to the municipality's archive, its receipt, and removal from the
active system after the retention setting (only once the receipt is stored)."""

import hashlib
import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.messaging import files as filetypes
from kontaktbok.relaylog import access
from kontaktbok.relaylog.models import ClosedDocument, Participant, RelayLog
from kontaktbok.relaylog.services import _audit, _gate

log_ = logging.getLogger(__name__)
State = RelayLog.State
Archive = RelayLog.Archive


def render_pdf(log: RelayLog, *, language: str = "nn") -> bytes:
    """The whole log (consents, plan and evaluations, entries, holder history) as one
    PDF/A-3b document for the archive."""
    from weasyprint import HTML  # imported late: it loads pango at import time

    from kontaktbok.relaylog.selectors import log_content

    with translation.override(language):
        html = render_to_string("relaylog/log_pdf.html", {"log": log, **log_content(log)})
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")


def log_close(*, actor: Any, log_id: int, reason: str) -> RelayLog:
    """Close the log: by the holder, or by a guardian at any time (then the reason is the
    guardians' request). The log is read-only from this moment; the PDF is made and stored
    encrypted in the same transaction, and the archive hand-off is queued with it."""
    if reason not in RelayLog.CloseReason.values:
        raise ValidationError({"reason": _("Choose why the log is closed.")})
    with transaction.atomic():
        log, participant = _gate(actor, log_id)
        if not log.is_open:
            raise ValidationError(_("The relay log is already closed."))
        if participant.kind == Participant.Kind.GUARDIAN:
            reason = RelayLog.CloseReason.GUARDIANS
        elif not access.is_holder(actor, log):
            raise PermissionDenied
        now = clock.now()
        log.state = State.CLOSED
        log.closed_at = now
        log.closed_by = actor
        log.close_reason = reason
        log.archive_state = Archive.WAITING
        log.archive_message_id = uuid.uuid4()
        log.save(
            update_fields=[
                "state",
                "closed_at",
                "closed_by",
                "close_reason",
                "archive_state",
                "archive_message_id",
            ]
        )
        pdf = render_pdf(log, language=log.school.language or "nn")
        document = ClosedDocument(
            log=log, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), created_at=now
        )
        document.ciphertext = filetypes.encrypt(pdf, name=str(document.uuid))
        document.save(force_insert=True)
        _audit(actor, "relaylog.log.closed", log, reason=reason)
        from kontaktbok.relaylog import tasks

        tasks.deliver_to_archive.enqueue(log_id=log.pk)
    return log


def document_bytes(log: RelayLog) -> bytes:
    document = ClosedDocument.objects.get(log=log)
    return filetypes.decrypt(bytes(document.ciphertext), name=str(document.uuid))


SOURCE = "relaylog"


def hand_to_archive(log: RelayLog) -> bool:
    """THE archive hand-off: deliver the closed log's PDF/A to the pupil's folder
    (elevmappe) through the archive app, to the school's archive unit, keyed by the log's
    message id (the same on every retry, so the archive files it once). The archive's
    receipt comes back through ``archive.signals.delivery_archived``. Without an active
    unit for the school the log waits, and is handed over when one is set up."""
    from kontaktbok.archive import services as archive
    from kontaktbok.archive.models import ArchiveDelivery
    from kontaktbok.archive.selectors import pupil_folder_unit

    external_key = f"{SOURCE}:{log.archive_message_id}"
    if ArchiveDelivery.objects.filter(external_key=external_key).exists():
        return True  # handed over already: the archive app retries it, not we
    unit = pupil_folder_unit(log.school_id)
    if unit is None:
        log_.warning("relay log %s waits: the school has no archive unit", log.pk)
        return False
    title = _("Relay log (stafettlogg) for %(name)s, closed %(day)s") % {
        "name": log.pupil.full_name,
        "day": log.closed_at.date().isoformat() if log.closed_at else "",
    }
    with transaction.atomic():
        archive.deliver_document(
            actor=None,
            unit=unit,
            external_key=external_key,
            title=title,
            sender=archive.Sender(
                kind=ArchiveDelivery.SenderKind.ORGANISATION,
                name=log.school.name,
                identifier=log.school.org_number,
            ),
            documents=[
                archive.Document(
                    title, f"stafettlogg-{log.pk}.pdf", "application/pdf", document_bytes(log)
                )
            ],
            document_date=log.closed_at,
            source=SOURCE,
            confidential=True,  # about one pupil's health, family or welfare
        )
    return True


def on_archived(sender: Any, delivery: Any, reference: str, **kwargs: Any) -> None:
    """The archive has filed a closed log: record its receipt (same transaction)."""
    if delivery.source != SOURCE:
        return
    message_id = uuid.UUID(delivery.external_key.removeprefix(f"{SOURCE}:"))
    log = RelayLog.objects.filter(archive_message_id=message_id).first()
    if log is not None:
        archive_receipt_record(log_id=log.pk, receipt=reference, message_id=message_id)


def deliver(*, log_id: int) -> bool:
    """Hand a closed log to the archive unless its receipt is already stored; safe to run
    again (a killed worker re-sends with the same client message id)."""
    log = RelayLog.objects.select_related("pupil", "school").filter(pk=log_id).first()
    if log is None or log.archive_state != Archive.WAITING:
        return False
    return hand_to_archive(log)


def archive_receipt_record(*, log_id: int, receipt: str, message_id: uuid.UUID) -> RelayLog:
    """The archive's receipt (kvittering) for a closed log; from now the retention clock
    runs. Recording the same receipt twice changes nothing."""
    with transaction.atomic():
        log = RelayLog.objects.select_for_update().get(pk=log_id)
        if log.archive_message_id != message_id:
            raise ValidationError("the receipt is for another delivery")
        if log.archive_state == Archive.RECEIVED:
            return log
        log.archive_state = Archive.RECEIVED
        log.archive_receipt = receipt[:200]
        log.archive_received_at = clock.now()
        log.save(update_fields=["archive_state", "archive_receipt", "archive_received_at"])
        audit_log(
            actor=None,
            action="relaylog.log.archived",
            obj=log,
            school_id=log.school_id,
            detail={"log": log.pk, "receipt": log.archive_receipt},
        )
    return log


def logs_remove(ids: list[int]) -> None:
    """Remove closed logs from the active system: called by the retention run
    (``privacy.retention``, rule ``relay_logs``) only for logs whose archive receipt is
    stored and old enough. Each removal is audited with the log's receipt."""
    for log in RelayLog.objects.filter(pk__in=ids, archive_state=Archive.RECEIVED):
        audit_log(
            actor=None,
            action="relaylog.log.removed",
            school_id=log.school_id,
            detail={"log": log.pk, "receipt": log.archive_receipt},
        )
        _delete(log)


def _delete(log: RelayLog) -> None:
    """Delete the log and everything in it (entries are append-only to people; only the
    retention run removes them, with the whole log)."""
    from django.db.models.deletion import Collector

    collector = Collector(using="default")
    collector.collect([log])
    collector.delete()
