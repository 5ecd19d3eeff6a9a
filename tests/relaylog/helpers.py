"""Relay logs for the tests, built through the services."""

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from kontaktbok.core import clock
from kontaktbok.relaylog import services
from kontaktbok.relaylog.models import Participant, RelayLog
from tests.factories import World

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
    b"endobj\ntrailer<</Root 1 0 R>>\nstartxref\n0\n%%EOF\n"
)


def scanned_form(name: str = "samtykke.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def set_age(pupil: Any, years: int, *, days_after_birthday: int = 0) -> None:
    """Make the pupil ``years`` old today (their birthday ``days_after_birthday`` ago)."""
    today = clock.today()
    birthday = today - dt.timedelta(days=days_after_birthday)
    pupil.date_of_birth = birthday.replace(year=birthday.year - years)
    pupil.save(update_fields=["date_of_birth"])


def open_log(world: World, pupil: Any = None, *, level: int = 1, holder: Any = None) -> RelayLog:
    """Leiing opens a log for Aksel (9B, guardian A) unless told otherwise."""
    return services.log_create(
        actor=world.leadership,
        pupil=pupil or world.child_a2,
        concern="Mykje fråvær og lite søvn.",
        level=level,
        holder=holder or world.leadership,
    )


def consented(world: World, pupil: Any = None, **kwargs: Any) -> RelayLog:
    """An active log: every guardian with parental responsibility has consented."""
    log = open_log(world, pupil, **kwargs)
    for participant in Participant.objects.filter(log=log, kind=Participant.Kind.GUARDIAN):
        services.consent_give(actor=participant.user, log_id=log.pk, language="nn")
    log.refresh_from_db()
    return log


def with_nurse(
    world: World, log: RelayLog, *, consent: bool = True, email: str = "helsestasjon@kommune.no"
) -> Participant:
    """The holder invites the school health nurse; the guardians consent to her service."""
    nurse = services.participant_invite(
        actor=log.holder,
        log_id=log.pk,
        kind=Participant.Kind.SERVICE,
        email=email,
        full_name="Helse Sjukepleiar",
        service="Helsestasjon",
    )
    if consent:
        for participant in Participant.objects.filter(log=log, kind=Participant.Kind.GUARDIAN):
            services.consent_give(
                actor=participant.user, log_id=log.pk, service="Helsestasjon", language="nn"
            )
    return nurse
