"""Every write of the submissions app: the draft kept between the form and the summary,
and the send, which stores the submission, its audit entry and its archive delivery in one
transaction and queues the receipt."""

import datetime as dt
import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kontaktbok.archive import selectors as archive_selectors
from kontaktbok.archive import services as archive
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.messaging import files as sealed
from kontaktbok.notifications.models import Channel as NotificationChannel
from kontaktbok.notifications.services import notify
from kontaktbok.submissions import kinds, pdf
from kontaktbok.submissions.forms import parse_case_number, receipt_address
from kontaktbok.submissions.identity import Identity
from kontaktbok.submissions.models import Draft, DraftFile, Submission
from kontaktbok.submissions.selectors import delivery_key

# No 0/O, 1/I/L, U: a code read aloud over the phone is not misheard.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
DRAFT_HOURS = 24


def new_code() -> str:
    """A short human reference like ``KB-7Q4M-2C``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    return f"KB-{chars[:4]}-{chars[4:]}"


def _comment_name(draft: Draft) -> str:
    return f"{draft.uuid}:comment"


def draft_comment(draft: Draft) -> str:
    if not draft.comment:
        return ""
    return sealed.decrypt(bytes(draft.comment), name=_comment_name(draft)).decode()


def draft_save(
    *,
    actor: Any,
    draft: Draft | None,
    fields: dict[str, Any],
    comment: str,
    files: list[tuple[str, str, bytes]],
) -> Draft:
    """Keep what the person has typed and the files that passed the checks (encrypted)."""
    with transaction.atomic():
        if draft is None:
            draft = Draft(sender=actor, created_at=clock.now())
        draft.fields = fields
        draft.comment = sealed.encrypt(comment.encode(), name=_comment_name(draft))
        draft.save()
        for name, content_type, data in files:
            item = DraftFile(draft=draft, filename=name, content_type=content_type, size=len(data))
            item.data = sealed.encrypt(data, name=str(item.uuid))
            item.save()
    return draft


def draft_remove_file(*, actor: Any, draft: Draft, file_id: int) -> None:
    with transaction.atomic():
        DraftFile.objects.filter(draft=draft, pk=file_id, draft__sender=actor).delete()


def submission_send(*, actor: Any, draft: Draft, identity: Identity) -> Submission:
    """Send the draft: the comment as PDF/A and the files go to the unit's archive; the
    submission, its audit entry and the delivery commit together; the receipt (never the
    content) goes by the channel the person chose, to the mobile number or e-mail address
    typed on the form (not the account's, which a citizen known by ID-porten has not got),
    and so does the archive's later notice."""
    fields = draft.fields
    unit = archive_selectors.receiving_units().filter(pk=fields.get("unit")).first()
    if unit is None:
        raise ValidationError(_("This recipient no longer receives submissions."))
    channel = fields.get("receipt_channel", "")
    address = receipt_address(
        channel, fields.get("receipt_email", ""), fields.get("receipt_mobile", "")
    )
    if channel == Submission.Channel.SMS:
        address = re.sub(r"[^\d+]", "", address)  # +4741234567, as the SMS gateway takes it
    business = fields.get("sender_kind") == "organisation"
    case = parse_case_number(fields.get("case_number", ""))
    files = list(draft.files.all())
    now = clock.now()
    for _attempt in range(5):
        code = new_code()
        if not Submission.objects.filter(code=code).exists():
            break
    comment = pdf.comment_pdf(
        {
            "title": fields["title"],
            "unit": unit.name,
            "sender": fields.get("organisation_name") if business else fields.get("name"),
            "organisation_number": fields.get("organisation_number") if business else "",
            "case_number": fields.get("case_number", ""),
            "received": now,
            "code": code,
            "comment": draft_comment(draft),
            "attachments": [f.filename for f in files],
        }
    )
    documents = [archive.Document(fields["title"], "kommentar.pdf", "application/pdf", comment)]
    documents += [
        archive.Document(
            f.filename, f.filename, f.content_type, sealed.decrypt(bytes(f.data), name=str(f.uuid))
        )
        for f in files
    ]
    sender = archive.Sender(
        kind="organisation" if business else "person",
        name=fields.get("organisation_name", "") if business else fields.get("name", ""),
        identifier=fields.get("organisation_number", "") if business else identity.national_id,
        email=address if channel == Submission.Channel.EMAIL else "",
        phone=address if channel == Submission.Channel.SMS else "",
    )
    try:
        with transaction.atomic():
            delivery = archive.deliver_document(
                actor=actor,
                unit=unit,
                external_key=delivery_key(draft.uuid),
                title=fields["title"],
                sender=sender,
                documents=documents,
                case_number=case,
                document_date=now,
                notify_user=actor,
                sender_reference=code,
                source="submissions",
            )
            submission = Submission.objects.create(
                code=code,
                sender=actor,
                unit=unit,
                delivery=delivery,
                as_business=business,
                organisation_number=fields.get("organisation_number", "") if business else "",
                receipt_channel=channel,
                created_at=now,
            )
            audit_log(
                actor=actor,
                action="submissions.submission.sent",
                obj=submission,
                school_id=unit.school_id,
                detail={"unit": unit.pk, "files": len(files), "business": business},
            )
            if address:
                sms = channel == Submission.Channel.SMS
                kind = kinds.RECEIPT_SMS if sms else kinds.RECEIPT_EMAIL
                notify(
                    recipient=actor,
                    kind=kind.code,
                    dedup_key=f"submissions.receipt.{submission.pk}",
                    payload={"unit": unit.name, "code": code},
                    url=f"/submissions/{submission.uuid}/",
                    school_id=unit.school_id,
                    to={NotificationChannel.SMS if sms else NotificationChannel.EMAIL: address},
                )
            draft.delete()
    except IntegrityError:
        # The same draft sent twice at once: the other request made it.
        existing = Submission.objects.filter(delivery__external_key=delivery_key(draft.uuid))
        if existing.exists():
            return existing.get()
        raise
    return submission


def submissions_remove(ids: list[int]) -> None:
    """Remove submissions with their deliveries' records; called by the retention run
    (``privacy.retention``, rule ``submissions``) only for those whose archive receipt is
    stored and old enough. Each removal is audited with its reference code."""
    from kontaktbok.archive.models import ArchiveDelivery

    for submission in Submission.objects.filter(
        pk__in=ids, delivery__state=ArchiveDelivery.State.ARCHIVED
    ).select_related("unit", "delivery"):
        audit_log(
            actor=None,
            action="submissions.submission.removed",
            school_id=submission.unit.school_id,
            detail={"code": submission.code, "reference": submission.delivery.journal_reference},
        )
        delivery = submission.delivery
        submission.delete()
        delivery.delete()


def drafts_delete_old() -> int:
    limit = clock.now() - dt.timedelta(hours=DRAFT_HOURS)
    count, _rows = Draft.objects.filter(created_at__lt=limit).delete()
    return count
