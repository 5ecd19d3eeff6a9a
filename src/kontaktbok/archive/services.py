"""Every write of the archive app.

``deliver_document`` is the one way into the municipality's archive: a submission, a closed
relay log or a leave decision is handed over as documents plus metadata, stored encrypted
with its delivery row in the caller's transaction, and a worker sends it (``delivery``).
"""

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kontaktbok.archive import arkivmelding, clients, kinds
from kontaktbok.archive.models import (
    ArchiveAnswer,
    ArchiveDelivery,
    ArchiveDocument,
    ArchiveUnit,
    FiksClient,
    FiksMessage,
)
from kontaktbok.archive.package import Credentials, PackageError
from kontaktbok.archive.signals import delivery_archived
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.messaging import files as sealed
from kontaktbok.notifications.models import Channel
from kontaktbok.notifications.services import Outgoing, notify, notify_many
from kontaktbok.schools.models import Municipality

State = ArchiveDelivery.State

# The file formats the archive takes, by the content type we found in the file.
ARCHIVE_FORMATS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.oasis.opendocument.text": "ODT",
}
OFFICE_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    }
)


@dataclass(frozen=True)
class Document:
    """A file to file: the first one given is the main document, the rest attachments."""

    title: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Sender:
    """Who the document is from: a person (``identifier`` = identity number) or a business
    (``identifier`` = organisation number)."""

    kind: str  # ArchiveDelivery.SenderKind
    name: str
    identifier: str = ""
    email: str = ""
    phone: str = ""


def _safe_filename(name: str, number: int) -> str:
    stem = re.sub(r"[^\w.\-]+", "_", name.strip(), flags=re.UNICODE).strip("._") or "dokument"
    return f"{number:02d}-{stem[:120]}"


def _sender_name(delivery: ArchiveDelivery) -> str:
    return f"{delivery.client_message_id}:sender"


def sender_identifier(delivery: ArchiveDelivery) -> str:
    """The sender's identity or organisation number, decrypted ("" once deleted)."""
    if not delivery.sender_identifier:
        return ""
    return sealed.decrypt(bytes(delivery.sender_identifier), name=_sender_name(delivery)).decode()


def sender_contact(delivery: ArchiveDelivery) -> dict[str, str]:
    """Where the sender is told that the archive has registered it: the e-mail address and
    mobile number given with the document, never the account's (in the app only if none)."""
    return {
        channel: address
        for channel, address in (
            (Channel.EMAIL, delivery.sender_email),
            (Channel.SMS, delivery.sender_phone),
        )
        if address
    }


def journal_entry(
    delivery: ArchiveDelivery, documents: Sequence[ArchiveDocument]
) -> arkivmelding.JournalEntry:
    """The arkivmelding's content for a delivery: one rule for the first check and the send."""
    unit = delivery.unit
    identifier = sender_identifier(delivery)
    person = delivery.sender_kind == ArchiveDelivery.SenderKind.PERSON
    return arkivmelding.JournalEntry(
        title=delivery.title,
        sender=arkivmelding.Correspondent(
            name=delivery.sender_name,
            person_id=identifier if person else "",
            organisation_id="" if person else identifier,
            email=delivery.sender_email,
            phone=delivery.sender_phone,
        ),
        municipality_name=unit.municipality.name,
        municipality_org_number=unit.municipality.org_number,
        unit_name=unit.name,
        administrative_unit=unit.administrative_unit,
        received_at=delivery.document_date,
        external_key=delivery.external_key,
        files=[
            arkivmelding.DocumentFile(
                number=d.number,
                role=d.role,
                title=d.title,
                filename=d.filename,
                archive_format=ARCHIVE_FORMATS[d.content_type],
            )
            for d in documents
        ],
        case_year=delivery.case_year,
        case_sequence=delivery.case_sequence,
        screening=(
            (unit.access_code, unit.screening_authority)
            if unit.confidential or delivery.confidential
            else None
        ),
    )


def deliver_document(
    *,
    actor: Any,
    unit: ArchiveUnit,
    external_key: str,
    title: str,
    sender: Sender,
    documents: Sequence[Document],
    case_number: tuple[int, int] | None = None,
    document_date: dt.datetime | None = None,
    notify_user: Any = None,
    sender_reference: str = "",
    source: str = "",
    confidential: bool = False,
) -> ArchiveDelivery:
    """Deliver documents with this metadata to the unit's archive as an incoming journal
    entry; returns the delivery row, queued.

    Runs in the caller's transaction (the document, its audit entry and the delivery commit
    together) and sends after the commit. The same ``external_key`` again returns the row
    already made: a caller that retries never files a document twice. The metadata is
    checked against KS's schema here, so a caller learns of bad input at once
    (``ValidationError``). ``notify_user`` is told when the archive has registered it, at
    the sender's e-mail or mobile given here (``sender_contact``). ``confidential`` screens
    this entry (skjerming) even when the unit's entries are not screened."""
    if not unit.active:
        raise ValidationError(_("This unit does not receive documents now."))
    if not documents:
        raise ValidationError(_("There is nothing to deliver."))
    if not title.strip():
        raise ValidationError(_("Write a title."))
    for document in documents:
        if document.content_type not in ARCHIVE_FORMATS:
            raise ValidationError(_("The archive does not take this kind of file."))
        if document.content_type in OFFICE_TYPES and not unit.office_documents:
            raise ValidationError(_("This unit takes PDF and pictures only."))
    now = clock.now()
    with transaction.atomic():
        existing = ArchiveDelivery.objects.filter(external_key=external_key).first()
        if existing is not None:
            return existing
        delivery = ArchiveDelivery(
            external_key=external_key,
            unit=unit,
            source=source,
            confidential=confidential,
            title=title.strip(),
            sender_kind=sender.kind,
            sender_name=sender.name.strip(),
            sender_email=sender.email,
            sender_phone=sender.phone,
            case_year=case_number[0] if case_number else None,
            case_sequence=case_number[1] if case_number else None,
            document_date=document_date or now,
            notify_user=notify_user,
            sender_reference=sender_reference,
            due_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
        )
        if sender.identifier:
            delivery.sender_identifier = sealed.encrypt(
                sender.identifier.encode(), name=_sender_name(delivery)
            )
        delivery.save()
        rows = []
        for number, document in enumerate(documents, start=1):
            row = ArchiveDocument(
                delivery=delivery,
                uuid=uuid.uuid4(),
                number=number,
                role=ArchiveDocument.Role.MAIN if number == 1 else ArchiveDocument.Role.ATTACHMENT,
                title=document.title.strip()[:500] or document.filename,
                filename=_safe_filename(document.filename, number),
                content_type=document.content_type,
                size=len(document.data),
                sha256=hashlib.sha256(document.data).hexdigest(),
            )
            row.data = sealed.encrypt(document.data, name=str(row.uuid))
            rows.append(row)
        ArchiveDocument.objects.bulk_create(rows)
        try:
            arkivmelding.build(journal_entry(delivery, rows))
        except arkivmelding.InvalidMessage as exc:
            raise ValidationError(
                _("The archive would not accept this: %(reason)s") % {"reason": exc}
            ) from exc
        audit_log(
            actor=actor,
            action="archive.delivery.queued",
            obj=delivery,
            school_id=unit.school_id,
            detail={"unit": unit.pk, "source": source, "documents": len(rows)},
        )
        _queue(delivery.pk)
    return delivery


def _queue(delivery_id: int) -> None:
    from kontaktbok.archive.tasks import send_delivery

    transaction.on_commit(lambda: send_delivery.enqueue(delivery_id))


def delivery_resend(*, actor: Any, delivery: ArchiveDelivery) -> ArchiveDelivery:
    """Send a failed delivery again, with the same client message id (the archive sees the
    same message); refused once its content is deleted."""
    with transaction.atomic():
        if delivery.content_deleted_at is not None:
            raise ValidationError(_("The content of this delivery is deleted."))
        updated = ArchiveDelivery.objects.filter(pk=delivery.pk, state=State.FAILED).update(
            state=State.QUEUED,
            due_at=clock.now(),
            attempts=0,
            claimed_at=None,
            failure_reason="",
            failed_at=None,
            sent_at=None,
        )
        if not updated:
            raise ValidationError(_("Only a failed delivery can be sent again."))
        audit_log(
            actor=actor,
            action="archive.delivery.resent",
            obj=delivery,
            school_id=delivery.unit.school_id,
        )
        _queue(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _fail(delivery: ArchiveDelivery, reason: str) -> None:
    """Mark failed and tell the unit's responsible staff (in the caller's transaction)."""
    now = clock.now()
    ArchiveDelivery.objects.filter(pk=delivery.pk).update(
        state=State.FAILED, failure_reason=reason[:2000], failed_at=now, claimed_at=None
    )
    audit_log(
        actor=None,
        action="archive.delivery.failed",
        obj=delivery,
        school_id=delivery.unit.school_id,
        detail={"reason": reason[:200]},
    )
    staff = list(delivery.unit.responsible_staff.filter(is_active=True))
    notify_many(
        kind=kinds.DELIVERY_FAILED.code,
        items=[
            Outgoing(
                recipient=person,
                dedup_key=f"archive.failed.{delivery.pk}.{now.isoformat()}",
                payload={
                    "title": delivery.title,
                    "unit": delivery.unit.name,
                    "reason": reason[:300],
                },
                url="/archive/deliveries/?state=failed",
            )
            for person in staff
        ],
        school_id=delivery.unit.school_id,
    )


def delivery_fail(*, delivery_id: int, reason: str, claimed_at: dt.datetime | None = None) -> bool:
    """The worker gives up on a delivery (only the claimant, if ``claimed_at`` is given)."""
    with transaction.atomic():
        rows = ArchiveDelivery.objects.select_for_update().filter(
            pk=delivery_id, state__in=[State.QUEUED, State.SENT, State.RECEIVED]
        )
        if claimed_at is not None:
            rows = rows.filter(claimed_at=claimed_at)
        delivery = rows.select_related("unit").first()
        if delivery is None:
            return False
        _fail(delivery, reason)
    return True


def delivery_mark_sent(
    *,
    delivery_id: int,
    claimed_at: dt.datetime,
    message_id: uuid.UUID,
    account_id: uuid.UUID | None = None,
) -> bool:
    """Record the Fiks IO message id of a send from our ``account_id``; answers that came
    before (on that account) are applied now."""
    with transaction.atomic():
        delivery = ArchiveDelivery.objects.select_related("unit").get(pk=delivery_id)
        FiksMessage.objects.get_or_create(
            message_id=message_id,
            defaults={"delivery": delivery, "sent_at": clock.now(), "account_id": account_id},
        )
        updated = ArchiveDelivery.objects.filter(
            pk=delivery_id, state=State.QUEUED, claimed_at=claimed_at
        ).update(state=State.SENT, sent_at=clock.now(), claimed_at=None)
        if updated:
            audit_log(
                actor=None,
                action="archive.delivery.sent",
                obj=delivery,
                school_id=delivery.unit.school_id,
                detail={"message_id": str(message_id), "attempt": delivery.attempts},
            )
        early = ArchiveAnswer.objects.filter(in_reply_to=message_id, delivery__isnull=True).filter(
            Q(sender_account=delivery.unit.fiks_account_id)
            | Q(message_type__in=arkivmelding.FIKSIO_SERVERFEIL)
        )
        if account_id is not None:
            early = early.filter(received_on=account_id)
        for answer in early.order_by("received_at", "pk"):
            answer.delivery = delivery
            answer.save(update_fields=["delivery"])
            delivery.refresh_from_db()
            _apply(delivery, answer.message_type, answer.payload.encode())
    return bool(updated)


def answer_record(
    *,
    message_id: uuid.UUID,
    message_type: str,
    sender_account: uuid.UUID | None,
    in_reply_to: uuid.UUID | None,
    client_message_id: uuid.UUID | None,
    payload: bytes,
    received_on: uuid.UUID | None = None,
) -> ArchiveDelivery | None:
    """Store an answer from the archive and apply it to its delivery, once per Fiks IO
    message (a redelivered message changes nothing). An answer to a send not yet recorded
    waits in the table until the send is (``delivery_mark_sent``). Only the unit's own
    archive account (``avsender-id``) can move a delivery on; Fiks IO's own serverfeil
    counts from any sender. And only on our account the delivery went from
    (``received_on``): one municipality's answers never move another's delivery, even
    when they share an archive."""
    with transaction.atomic():
        if ArchiveAnswer.objects.filter(message_id=message_id).exists():
            return None
        delivery = None
        if in_reply_to is not None:
            sent = FiksMessage.objects.filter(message_id=in_reply_to).select_related(
                "delivery__unit"
            )
            delivery = sent[0].delivery if sent else None
        if delivery is None and client_message_id is not None:
            delivery = (
                ArchiveDelivery.objects.filter(client_message_id=client_message_id)
                .select_related("unit")
                .first()
            )
        if delivery is not None and (
            (
                message_type not in arkivmelding.FIKSIO_SERVERFEIL
                and sender_account != delivery.unit.fiks_account_id
            )
            or (received_on is not None and received_on not in _our_accounts(delivery))
        ):
            audit_log(
                actor=None,
                action="archive.answer.foreign",
                obj=delivery,
                school_id=delivery.unit.school_id,
                detail={
                    "type": message_type,
                    "sender": str(sender_account),
                    "received_on": str(received_on),
                },
            )
            delivery = None  # kept for the record, never applied
        ArchiveAnswer.objects.create(
            delivery=delivery,
            message_id=message_id,
            message_type=message_type,
            sender_account=sender_account,
            in_reply_to=in_reply_to,
            received_on=received_on,
            payload=payload.decode(errors="replace")[:200_000],
            received_at=clock.now(),
        )
        if delivery is not None:
            ArchiveDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
            delivery.refresh_from_db()
            _apply(delivery, message_type, payload)
    return delivery


def _our_accounts(delivery: ArchiveDelivery) -> set[uuid.UUID]:
    """Our accounts a delivery's answers may come on: those it was sent from, and its
    municipality's account now (an answer may come before its send is recorded)."""
    accounts: set[uuid.UUID] = {
        account
        for account in FiksMessage.objects.filter(delivery=delivery).values_list(
            "account_id", flat=True
        )
        if account is not None
    }
    current = clients.account_of(delivery.unit.municipality_id)
    return accounts | ({current} if current else set())


def _apply(delivery: ArchiveDelivery, message_type: str, payload: bytes) -> None:
    now = clock.now()
    school_id = delivery.unit.school_id
    if delivery.state == State.ARCHIVED:
        return  # the archive has filed it: a late error or a repeated mottatt changes nothing
    if message_type == arkivmelding.MOTTATT:
        if delivery.state in (State.QUEUED, State.SENT, State.FAILED):
            ArchiveDelivery.objects.filter(pk=delivery.pk).update(
                state=State.RECEIVED, received_at=now, failure_reason="", claimed_at=None
            )
            audit_log(
                actor=None, action="archive.delivery.received", obj=delivery, school_id=school_id
            )
        return
    if message_type == arkivmelding.KVITTERING:
        try:
            receipt = arkivmelding.read_receipt(payload)
        except arkivmelding.InvalidMessage as exc:
            _fail(delivery, f"{message_type}: {exc}")
            return
        if delivery.case_year is not None and receipt.journal_post_number is not None:
            reference = (
                f"{delivery.case_year}/{delivery.case_sequence}-{receipt.journal_post_number}"
            )
        else:
            reference = receipt.reference
        ArchiveDelivery.objects.filter(pk=delivery.pk).update(
            state=State.ARCHIVED,
            archived_at=now,
            received_at=delivery.received_at or now,
            journal_year=receipt.journal_year,
            journal_sequence=receipt.journal_sequence,
            journal_post_number=receipt.journal_post_number,
            journal_reference=reference,
            receipt_xml=payload.decode(errors="replace"),
            failure_reason="",
            claimed_at=None,
        )
        audit_log(
            actor=None,
            action="archive.delivery.archived",
            obj=delivery,
            school_id=school_id,
            detail={"reference": reference, "created": receipt.created},
        )
        delivery_archived.send(sender=ArchiveDelivery, delivery=delivery, reference=reference)
        if delivery.notify_user is not None:
            notify(
                recipient=delivery.notify_user,
                kind=kinds.ARCHIVED.code,
                dedup_key=f"archive.archived.{delivery.pk}",
                payload={"code": delivery.sender_reference, "reference": reference},
                school_id=school_id,
                to=sender_contact(delivery),
            )
        return
    if message_type in arkivmelding.ERRORS:
        detail = arkivmelding.read_error(payload) if payload else ""
        _fail(delivery, f"{message_type}: {detail}".strip(": "))
        return
    audit_log(
        actor=None,
        action="archive.answer.unexpected",
        obj=delivery,
        school_id=school_id,
        detail={"type": message_type},
    )


def deliveries_time_out() -> int:
    """Deliveries sent but not answered in time fail, and their staff are told."""
    limit = clock.now() - dt.timedelta(minutes=settings.ARCHIVE_ANSWER_TIMEOUT_MINUTES)
    count = 0
    for pk in ArchiveDelivery.objects.filter(state=State.SENT, sent_at__lt=limit).values_list(
        "pk", flat=True
    ):
        count += delivery_fail(
            delivery_id=pk,
            reason=_("No answer from the archive in %(minutes)s minutes.")
            % {"minutes": settings.ARCHIVE_ANSWER_TIMEOUT_MINUTES},
        )
    return count


def contents_delete(ids: list[int]) -> None:
    """Delete the content of these deliveries, leaving the metadata and the journal
    reference. Called by the retention run (``privacy.retention``, rule
    ``archive_content``) only for deliveries whose receipt is stored and old enough."""
    for pk in ArchiveDelivery.objects.filter(
        pk__in=ids, state=State.ARCHIVED, content_deleted_at__isnull=True
    ).values_list("pk", flat=True):
        ArchiveDocument.objects.filter(delivery_id=pk).update(data=None)
        ArchiveDelivery.objects.filter(pk=pk).update(
            sender_identifier=None, content_deleted_at=clock.now()
        )
        audit_log(actor=None, action="archive.delivery.content_deleted", obj=ArchiveDelivery(pk=pk))


def due_deliveries() -> list[int]:
    """Queued deliveries that are due and held by no live worker (new, retries, or left by
    a worker that died): the sweep queues them again."""
    now = clock.now()
    lease = dt.timedelta(seconds=settings.ARCHIVE_LEASE_SECONDS)
    return list(
        ArchiveDelivery.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease),
            state=State.QUEUED,
            due_at__lte=now,
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:1000]
    )


def unit_create(*, actor: Any, **fields: Any) -> ArchiveUnit:
    """A new archive unit (the school admin's form checks who may)."""
    staff = fields.pop("responsible_staff", [])
    with transaction.atomic():
        unit = ArchiveUnit.objects.create(created_at=clock.now(), **fields)
        unit.responsible_staff.set(staff)
        audit_log(actor=actor, action="archive.unit.created", obj=unit, school_id=unit.school_id)
    return unit


def fiks_client_set(
    *,
    actor: Any,
    municipality: Municipality,
    account_id: uuid.UUID,
    integration_id: str,
    integration_password: str,
    maskinporten_client_id: str,
    signing_key_pem: bytes,
    certificate_pem: bytes,
) -> FiksClient:
    """Set the municipality's own Fiks IO client (made or replaced); the integration
    password and the signing key are sealed at rest. The key must belong to the
    certificate: it signs what goes out and opens the archive's answers."""
    if not (integration_id.strip() and integration_password and maskinporten_client_id.strip()):
        raise ValidationError(
            _("The integration id, its password and the Maskinporten client id are required.")
        )
    try:
        own = Credentials.from_pem(signing_key_pem, certificate_pem)
    except (ValueError, TypeError, PackageError) as exc:
        raise ValidationError(
            _("The key or the certificate is not valid PEM: %(reason)s") % {"reason": exc}
        ) from exc
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if own.key.public_key().public_bytes(*spki) != own.certificate.public_key().public_bytes(*spki):
        raise ValidationError(_("The signing key does not belong to the certificate."))
    taken = FiksClient.objects.filter(account_id=account_id).exclude(municipality=municipality)
    if taken.exists():
        raise ValidationError(_("This Fiks IO account is another municipality's."))
    now = clock.now()
    with transaction.atomic(durable=True):
        row = FiksClient.objects.select_for_update().filter(municipality=municipality).first()
        created = row is None
        if row is None:
            row = FiksClient(municipality=municipality, created_at=now)
        row.account_id = account_id
        row.integration_id = integration_id.strip()
        row.maskinporten_client_id = maskinporten_client_id.strip()
        row.certificate = certificate_pem.decode()
        row.updated_at = now
        row.integration_password = sealed.encrypt(
            integration_password.encode(), name=clients.secret_name(row, "integration_password")
        )
        row.signing_key = sealed.encrypt(
            signing_key_pem, name=clients.secret_name(row, "signing_key")
        )
        row.save()
        audit_log(
            actor=actor,
            action="archive.fiks_client.created" if created else "archive.fiks_client.updated",
            obj=row,
            detail={
                "municipality": municipality.org_number,
                "account": str(account_id),
                "integration": row.integration_id,
                "maskinporten_client": row.maskinporten_client_id,
            },
        )
    return row
