"""Relay logs for the access matrix: Vern's (9B, protected address), opened by the
rådgjevar whom leiing allows, who holds the baton; guardian B takes part (the restricted
guardian never does), and the school health nurse joins with guardian B's consent. No
other actor of the matrix takes part: leiing, kontor and the contact teacher get 404."""

from typing import Any

from kontaktbok.relaylog import closing, services
from kontaktbok.relaylog.models import Consent, Handover, Participant, RelayLog
from tests.factories import World
from tests.relaylog.helpers import scanned_form

NURSE_EMAIL = "helsesjukepleiar@kommune.no"


def advisor(w: World) -> Any:
    """The rådgjevar of 9B (the query budgets pass the world without ``every_role``'s
    fields, though its people are in the database)."""
    from django.contrib.auth import get_user_model

    return w.advisor or get_user_model().objects.get(full_name="Advisor")


def vern_draft(w: World) -> RelayLog:
    holder = advisor(w)
    services.creator_allow(actor=w.leadership, school_id=w.school.pk, user=holder)
    return services.log_create(
        actor=holder, pupil=w.protected_child, concern="Uro", level=1, holder=holder
    )


def vern_active(w: World) -> RelayLog:
    log = vern_draft(w)
    services.consent_give(actor=w.guardian_b, log_id=log.pk, language="nn")
    services.participant_invite(
        actor=advisor(w),
        log_id=log.pk,
        kind=Participant.Kind.SERVICE,
        email=NURSE_EMAIL,
        full_name="Helse Sjukepleiar",
        service="Helsestasjon",
    )
    services.consent_give(actor=w.guardian_b, log_id=log.pk, service="Helsestasjon", language="nn")
    entry = services.entry_add(
        actor=advisor(w), log_id=log.pk, body="Møte", attachment=scanned_form("referat.pdf")
    )
    assert entry.attachment_id
    log.refresh_from_db()
    return log


def nurse(log: RelayLog) -> Any:
    return Participant.objects.get(log=log, kind=Participant.Kind.SERVICE).user


def draft(w: World) -> dict[str, Any]:
    return {"log_id": vern_draft(w).pk}


def active(w: World) -> dict[str, Any]:
    return {"log_id": vern_active(w).pk}


def base_consent(w: World) -> dict[str, Any]:
    log = vern_active(w)
    return {"log_id": log.pk, "consent_id": Consent.objects.get(log=log, service="").pk}


def attachment(w: World) -> dict[str, Any]:
    log = vern_active(w)
    return {"log_id": log.pk, "attachment_uuid": log.attachments.get().uuid}


def handover(w: World) -> dict[str, Any]:
    log = vern_active(w)
    asked = services.handover_request(actor=advisor(w), log_id=log.pk, to_user_id=nurse(log).pk)
    return {"log_id": log.pk, "handover_id": asked.pk}


def closed(w: World) -> dict[str, Any]:
    log = vern_active(w)
    closing.log_close(actor=advisor(w), log_id=log.pk, reason="goals_met")
    return {"log_id": log.pk}


def to_nurse(w: World) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    return {"to_user": get_user_model().objects.get(email=NURSE_EMAIL).pk}


def decline(w: World) -> dict[str, str]:
    return {"answer": "decline"}


def level_2(w: World) -> dict[str, str]:
    return {"level": "2"}


def an_entry(w: World) -> dict[str, str]:
    return {"body": "Ny føring"}


def open_handover(log: RelayLog) -> Handover | None:
    return Handover.objects.filter(log=log, state=Handover.State.REQUESTED).first()
