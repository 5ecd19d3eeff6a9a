"""Rows of the access matrix for the archive and submissions pages."""

import uuid
from typing import Any

from kontaktbok.archive import keys
from kontaktbok.archive import services as archive_services
from kontaktbok.submissions import services
from kontaktbok.submissions.identity import Identity

_CERT: list[str] = []


def _unit(w: Any) -> Any:
    if not _CERT:
        _CERT.append(keys.self_signed("Arkiv")[1].decode())
    return archive_services.unit_create(
        actor=None,
        municipality=w.school.municipality,
        school=w.school,
        name="Skulen",
        fiks_account_id=uuid.uuid4(),
        archive_certificate=_CERT[0],
    )


def _draft(w: Any) -> Any:
    return services.draft_save(
        actor=w.guardian_a,
        draft=None,
        fields={
            "unit": _unit(w).pk,
            "sender_kind": "person",
            "name": "Guardian A",
            "receipt_channel": "email",
            "receipt_email": "guardian.a@example.test",
            "title": "Søknad",
            "case_number": "",
        },
        comment="Hei",
        files=[],
    )


def guardian_a_draft(w: Any) -> dict[str, Any]:
    return {"draft_id": _draft(w).uuid}


def guardian_a_submission(w: Any) -> dict[str, Any]:
    submission = services.submission_send(
        actor=w.guardian_a, draft=_draft(w), identity=Identity(name="Guardian A", national_id="")
    )
    return {"submission_id": submission.uuid}


def units_at_school_a(w: Any) -> dict[str, Any]:
    _unit(w)
    return {}


def failed_delivery_at_school_a(w: Any) -> dict[str, Any]:
    kwargs = guardian_a_submission(w)
    from kontaktbok.submissions.models import Submission

    delivery = Submission.objects.get(uuid=kwargs["submission_id"]).delivery
    archive_services.delivery_fail(delivery_id=delivery.pk, reason="serverfeil")
    return {"delivery_id": delivery.pk}
