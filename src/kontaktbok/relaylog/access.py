"""Who may read a relay log: its participants, and nobody else. Checked on every request
against the database (never cached): a guardian only with parental responsibility and
never a restricted guardian of a pupil with a protected address; a person from another
service only while every consent naming that service stands. Kontor, leiing and the
contact teacher read a log only if they take part in it."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kontaktbok.core import clock
from kontaktbok.core.ids import MAX_ID
from kontaktbok.relaylog.models import (
    Consent,
    Participant,
    RelayLog,
    RelayLogCreator,
    RelayLogSettings,
)
from kontaktbok.schools.access import roles_of
from kontaktbok.schools.models import Guardianship, Pupil, StaffRole

Role = StaffRole.Role


def settings_for(municipality_id: int) -> RelayLogSettings:
    """The municipality's relay log settings (the defaults until someone changes them)."""
    found = RelayLogSettings.objects.filter(municipality_id=municipality_id).first()
    return found or RelayLogSettings(municipality_id=municipality_id)


def log_settings(log: RelayLog) -> RelayLogSettings:
    """The settings of the log's municipality, read with the log when it was."""
    municipality = log.school.municipality
    try:
        return municipality.relaylog_settings
    except RelayLogSettings.DoesNotExist:
        return RelayLogSettings(municipality=municipality)


def age_on(pupil: Pupil, day: dt.date) -> int:
    born = pupil.date_of_birth
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def pupil_consents(pupil: Pupil, municipality_id: int, day: dt.date | None = None) -> bool:
    """Whether the pupil's own consent is needed (and the pupil takes part): from the
    municipality's consent age (default 15), counted on ``day``."""
    age = age_on(pupil, day or clock.today())
    return age >= settings_for(municipality_id).consent_age


def consenting_guardianships(pupil: Pupil) -> QuerySet[Guardianship]:
    """The guardians whose consent a log needs and who take part: parental responsibility,
    an active account, never a restricted guardian of a pupil with a protected address."""
    return (
        Guardianship.objects.filter(
            pupil=pupil, parental_responsibility=True, guardian__is_active=True
        )
        .exclude(restricted=True, pupil__protected_address=True)
        .select_related("guardian")
    )


@dataclass(frozen=True)
class ConsentState:
    """Who still has to consent to the log itself or to one service joining it."""

    missing_guardians: list[Any]
    pupil_missing: bool

    @property
    def complete(self) -> bool:
        return not self.missing_guardians and not self.pupil_missing


@dataclass(frozen=True)
class ConsentFacts:
    """Who must consent to a log: the guardians, and whether the pupil too (read once)."""

    guardians: list[Any]
    pupil_needed: bool


def consent_facts(log: RelayLog) -> ConsentFacts:
    """Read once per request and kept on the log object for the rest of it."""
    if log.consent_facts is None:
        age = age_on(log.pupil, clock.today())
        log.consent_facts = ConsentFacts(
            guardians=[g.guardian for g in consenting_guardianships(log.pupil)],
            pupil_needed=age >= log_settings(log).consent_age,
        )
    return log.consent_facts


def consent_state(
    log: RelayLog,
    service: str = "",
    *,
    consents: list[Consent] | None = None,
    facts: ConsentFacts | None = None,
) -> ConsentState:
    """Who still has to consent to the log itself (``service`` empty) or to one service;
    from ``consents`` and ``facts`` when the caller has read them already."""
    if consents is None:
        consents = list(Consent.objects.filter(log=log, service=service, withdrawn_at=None))
    facts = facts or consent_facts(log)
    live = [c for c in consents if c.service == service and c.withdrawn_at is None]
    consented = {c.given_by_id for c in live if c.given_by_kind == Consent.By.GUARDIAN}
    missing = [g for g in facts.guardians if g.pk not in consented]
    pupil_missing = facts.pupil_needed and not any(
        c.given_by_kind == Consent.By.PUPIL for c in live
    )
    return ConsentState(missing_guardians=missing, pupil_missing=pupil_missing)


def grants_reading(participant: Participant, log: RelayLog) -> bool:
    """Whether this participant row lets its person read the log today."""
    if participant.removed_at is not None:
        return False
    if participant.kind == Participant.Kind.GUARDIAN:
        return any(g.pk == participant.user_id for g in consent_facts(log).guardians)
    if participant.kind == Participant.Kind.PUPIL:
        return consent_facts(log).pupil_needed
    if participant.kind == Participant.Kind.SERVICE:
        return (
            log.state != RelayLog.State.DRAFT and consent_state(log, participant.service).complete
        )
    # School staff: while they work at the pupil's school.
    return log.school_id in roles_of(participant.user).school_roles


def participation(actor: Any, log_id: int) -> tuple[RelayLog, Participant]:
    """The log and the actor's participation in it, or 404: the one gate of every page
    and endpoint of a log."""
    if actor is None or not actor.is_authenticated or not 0 < log_id <= MAX_ID:
        raise Http404
    participant = (
        Participant.objects.select_related(
            "log__pupil", "log__school__municipality__relaylog_settings", "log__holder"
        )
        .filter(log_id=log_id, user=actor, removed_at=None)
        .first()
    )
    if participant is None:
        raise Http404
    participant.user = actor  # the roles read for this request are the actor's
    if not grants_reading(participant, participant.log):
        raise Http404
    return participant.log, participant


def readable_logs(actor: Any) -> list[tuple[RelayLog, Participant]]:
    """The logs the actor takes part in and may read now."""
    return readable_and_waiting(actor)[0]


def readable_and_waiting(actor: Any) -> tuple[list[tuple[RelayLog, Participant]], int]:
    """The logs the actor may read now, and how many more they take part in for another
    service that they may not read yet (waiting for the consents to that service). Only a
    number, and only for a service: a guardian or pupil who may not read learns nothing."""
    if actor is None or not actor.is_authenticated:
        return [], 0
    rows = list(
        Participant.objects.select_related(
            "log__pupil", "log__school__municipality__relaylog_settings"
        ).filter(user=actor, removed_at=None)
    )
    readable, waiting = [], 0
    for row in rows:
        row.user = actor
        if grants_reading(row, row.log):
            readable.append((row.log, row))
        elif row.kind == Participant.Kind.SERVICE and row.log.is_open:
            waiting += 1
    return readable, waiting


def takes_part_from_outside(user: Any) -> bool:
    """A person from another service, or the pupil, taking part in a log: they log in
    with ID-porten (registered with ``national.services.allow_login``)."""
    return Participant.objects.filter(
        user=user, removed_at=None, kind__in=[Participant.Kind.SERVICE, Participant.Kind.PUPIL]
    ).exists()


def outsider_only(user: Any) -> bool:
    """An account made for (or joined by) a person from another service or the pupil, with
    no role at a school and no child here: it logs in with ID-porten only, never with a
    password (registered with ``accounts.backends.id_porten_only``)."""
    if user.is_staff or user.is_superuser:
        return False
    roles = roles_of(user)
    if roles.is_guardian or roles.is_staff_member:
        return False
    return Participant.objects.filter(
        user=user, kind__in=[Participant.Kind.SERVICE, Participant.Kind.PUPIL]
    ).exists()


def is_holder(actor: Any, log: RelayLog) -> bool:
    return log.holder_id == getattr(actor, "pk", None)


def may_create(actor: Any, pupil: Pupil) -> bool:
    """Leiing at the pupil's school, or a staff member leiing allows."""
    if roles_of(actor).has_school_role(pupil.school_id, Role.LEADERSHIP):
        return True
    return (
        roles_of(actor).is_staff_member
        and pupil.school_id in roles_of(actor).school_roles
        and RelayLogCreator.objects.filter(school_id=pupil.school_id, user=actor).exists()
    )


def is_leadership(actor: Any, school_id: int) -> bool:
    return roles_of(actor).has_school_role(school_id, Role.LEADERSHIP)


def creatable_pupils(actor: Any) -> QuerySet[Pupil]:
    """Pupils of the schools where the actor may open relay logs."""
    roles = roles_of(actor)
    schools = set(roles.schools_with(Role.LEADERSHIP))
    schools |= set(
        RelayLogCreator.objects.filter(
            user=actor, school_id__in=list(roles.school_roles)
        ).values_list("school_id", flat=True)
    )
    return Pupil.objects.filter(Q(school_id__in=schools), left_on=None)
