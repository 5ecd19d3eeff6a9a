"""The archive as other apps' tests meet it: a school's unit, and the archive's receipt
given to the answer service as the consumer would give it."""

import uuid
from typing import Any

from kontaktbok.archive import arkivmelding, keys, standin
from kontaktbok.archive import services as archive
from kontaktbok.archive.models import ArchiveDelivery, ArchiveUnit
from kontaktbok.core import clock


def school_unit(school: Any, name: str = "", *, confidential: bool = True) -> ArchiveUnit:
    return archive.unit_create(
        actor=None,
        municipality=school.municipality,
        school=school,
        name=name or school.name,
        fiks_account_id=uuid.uuid4(),
        archive_certificate=keys.self_signed("Arkiv")[1].decode(),
        confidential=confidential,
        responsible_staff=[],
    )


def receipt(delivery: ArchiveDelivery, *, sequence: int = 77) -> None:
    """Record the send, then the archive's kvittering for it."""
    message_id = uuid.uuid4()
    archive.delivery_mark_sent(
        delivery_id=delivery.pk, claimed_at=clock.now(), message_id=message_id
    )
    archive.answer_record(
        message_id=uuid.uuid4(),
        message_type=arkivmelding.KVITTERING,
        sender_account=delivery.unit.fiks_account_id,
        in_reply_to=message_id,
        client_message_id=None,
        payload=standin.receipt_xml(
            year=2026, sequence=sequence, post=1, created=True, external_key=delivery.external_key
        ),
    )
