"""Every write about relay logs: opening, consents, participants, the baton, the action
plan, entries, attachments, closing and the archive's receipt. Each public service is the
outermost transaction and writes its audit entry inside it."""

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.messaging import files as filetypes
from kontaktbok.messaging.models import MessagingSettings
from kontaktbok.messaging.services import check_files
from kontaktbok.notifications.services import Outgoing, notify, notify_many
from kontaktbok.relaylog import access
from kontaktbok.relaylog.kinds import CONSENT, ENTRY, HANDOVER, INVITED, JOIN
from kontaktbok.relaylog.models import (
    Attachment,
    Consent,
    Entry,
    Evaluation,
    Goal,
    Handover,
    JoinLink,
    Measure,
    Participant,
    RelayLog,
    RelayLogCreator,
)
from kontaktbok.schools.access import roles_of
from kontaktbok.schools.models import Pupil

Kind = Participant.Kind
State = RelayLog.State
LEVEL_0_DAYS = 14  # BTI: at level 0 the holder decides within 14 days
MAX_TEXT = 20_000
MAX_ATTACHMENT_MB = 10
LANGUAGES = ("nn", "nb", "en")


def _tasks() -> Any:
    from kontaktbok.relaylog import tasks

    return tasks


def _link(log: RelayLog) -> str:
    return reverse("relaylog_detail", args=[log.pk])


def _payload(log: RelayLog) -> dict[str, str]:
    """What a notification may say: the child's first name, nothing more."""
    return {"child": log.pupil.first_name}


def _text(value: str, field: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: _("The text is too long.")})
    return value


def _open(log: RelayLog) -> None:
    if not log.is_open:
        raise ValidationError(_("The relay log is closed and can no longer be changed."))


def _active(log: RelayLog) -> None:
    _open(log)
    if log.state != State.ACTIVE:
        raise ValidationError(
            _("The relay log is waiting for consent. Nothing can be written in it yet.")
        )


def _locked(log_id: int) -> RelayLog:
    return RelayLog.objects.select_for_update().select_related("pupil", "school").get(pk=log_id)


def _gate(actor: Any, log_id: int) -> tuple[RelayLog, Participant]:
    """The log locked for writing, and the actor's participation (404 for others)."""
    _log, participant = access.participation(actor, log_id)
    log = _locked(log_id)
    participant.log = log
    return log, participant


def _gate_holder(actor: Any, log_id: int) -> tuple[RelayLog, Participant]:
    log, participant = _gate(actor, log_id)
    if not access.is_holder(actor, log):
        raise PermissionDenied
    return log, participant


def _role_label(participant: Participant) -> str:
    if participant.kind == Kind.SERVICE:
        return participant.service
    return participant.role or str(participant.get_kind_display())


def _audit(actor: Any, action: str, log: RelayLog, obj: Any = None, **detail: Any) -> None:
    audit_log(
        actor=actor,
        action=action,
        obj=obj or log,
        school_id=log.school_id,
        detail={"log": log.pk, **detail},
    )


# --- opening a log ---------------------------------------------------------------------------


def creator_allow(*, actor: Any, school_id: int, user: Any) -> RelayLogCreator:
    """Leiing lets a staff member of the school open relay logs."""
    if not access.is_leadership(actor, school_id):
        raise PermissionDenied
    if school_id not in roles_of(user).school_roles:
        raise ValidationError(_("Only staff of the school can open relay logs."))
    with transaction.atomic():
        creator, _created = RelayLogCreator.objects.get_or_create(
            school_id=school_id,
            user=user,
            defaults={"allowed_by": actor, "allowed_at": clock.now()},
        )
        audit_log(
            actor=actor,
            action="relaylog.creator.allowed",
            obj=creator,
            school_id=school_id,
            detail={"user": user.pk},
        )
    return creator


def log_create(*, actor: Any, pupil: Pupil, concern: str, level: int, holder: Any) -> RelayLog:
    """Open a draft log for ``pupil``: the concern, the level and the first holder. The
    guardians with parental responsibility take part and are asked for their consent;
    nothing but the draft exists until they (and the pupil, from the consent age) agree."""
    if not access.may_create(actor, pupil):
        raise PermissionDenied
    concern = _text(concern, "concern")
    if level not in (0, 1, 2, 3):
        raise ValidationError({"level": _("Choose a level from 0 to 3.")})
    if pupil.school_id not in roles_of(holder).school_roles:
        raise ValidationError({"holder": _("The holder must work at the pupil's school.")})
    now = clock.now()
    with transaction.atomic():
        log = RelayLog.objects.create(
            pupil=pupil,
            school_id=pupil.school_id,
            concern=concern,
            level=level,
            holder=holder,
            created_by=actor,
            created_at=now,
            decide_by=clock.today() + dt.timedelta(days=LEVEL_0_DAYS) if level == 0 else None,
        )
        rows = [
            Participant(
                log=log,
                user=actor,
                kind=Kind.STAFF,
                role=_("leadership"),
                added_by=actor,
                added_at=now,
            )
        ]
        if holder.pk != actor.pk:
            rows.append(
                Participant(log=log, user=holder, kind=Kind.STAFF, added_by=actor, added_at=now)
            )
        guardians = [g.guardian for g in access.consenting_guardianships(pupil)]
        rows += [
            Participant(log=log, user=g, kind=Kind.GUARDIAN, added_by=actor, added_at=now)
            for g in guardians
        ]
        Participant.objects.bulk_create(rows)
        Handover.objects.create(
            log=log,
            from_user=None,
            to_user=holder,
            state=Handover.State.ACCEPTED,
            requested_at=now,
            decided_at=now,
        )
        notify_many(
            kind=CONSENT.code,
            items=[
                Outgoing(
                    recipient=g,
                    dedup_key=f"relaylog-consent:{log.pk}:",
                    payload=_payload(log),
                    url=_link(log),
                )
                for g in guardians
            ],
            school_id=log.school_id,
        )
        _audit(actor, "relaylog.log.created", log, level=level, holder=holder.pk)
    return log


def level_decide(*, actor: Any, log_id: int, level: int) -> RelayLog:
    """The holder's decision at the end of level 0 (or any later change of level)."""
    if level not in (0, 1, 2, 3):
        raise ValidationError({"level": _("Choose a level from 0 to 3.")})
    with transaction.atomic():
        log, _p = _gate_holder(actor, log_id)
        _open(log)
        before = log.level
        log.level = level
        if level > 0:
            log.decide_by = None
        log.save(update_fields=["level", "decide_by"])
        _audit(actor, "relaylog.level.decided", log, before=before, level=level)
    return log


# --- consent -----------------------------------------------------------------------------


def consent_text(log: RelayLog, service: str, language: str) -> str:
    """The text of a consent in ``language``; what the person confirms is stored with it."""
    with translation.override(language):
        if service:
            return _(
                "I consent to %(service)s taking part in the relay log for %(child)s and "
                "reading it. The consent is given to the service, not to named employees. "
                "I can withdraw it at any time, and the service loses its access at once."
            ) % {"service": service, "child": log.pupil.full_name}
        return _(
            "I consent to a relay log being kept for %(child)s, in which home, school and "
            "the services I consent to cooperate. Only those taking part can read it, and "
            "every read is recorded. I can close it at any time; when it is closed it is "
            "archived in the pupil's folder."
        ) % {"child": log.pupil.full_name}


def _consenter_kind(participant: Participant) -> str:
    if participant.kind == Kind.GUARDIAN:
        return Consent.By.GUARDIAN
    if participant.kind == Kind.PUPIL:
        return Consent.By.PUPIL
    raise PermissionDenied


def _live(log: RelayLog, kind: str, user: Any, service: str) -> Consent | None:
    found = Consent.objects.filter(log=log, service=service, withdrawn_at=None, given_by_kind=kind)
    if kind == Consent.By.GUARDIAN:
        found = found.filter(given_by=user)
    return found.first()


def _after_consent(log: RelayLog, actor: Any) -> None:
    if log.state == State.DRAFT and access.consent_state(log).complete:
        log.state = State.ACTIVE
        log.save(update_fields=["state"])
        _audit(actor, "relaylog.log.activated", log)


def _service_name(log: RelayLog, service: str) -> str:
    service = (service or "").strip()
    if (
        service
        and not Participant.objects.filter(log=log, service=service, removed_at=None).exists()
    ):
        raise ValidationError({"service": _("No one from this service has been invited.")})
    return service


def consent_give(*, actor: Any, log_id: int, service: str = "", language: str) -> Consent:
    """A guardian, or the pupil from the consent age, confirms the consent text in their
    language: to the log itself, or to one service joining it."""
    if language not in LANGUAGES:
        language = "nn"
    with transaction.atomic():
        log, participant = _gate(actor, log_id)
        _open(log)
        kind = _consenter_kind(participant)
        service = _service_name(log, service)
        existing = _live(log, kind, actor, service)
        if existing is not None:
            return existing
        consent = Consent.objects.create(
            log=log,
            given_by_kind=kind,
            given_by=actor,
            given_by_name=actor.get_full_name(),
            service=service,
            method=Consent.Method.DIGITAL,
            language=language,
            text=consent_text(log, service, language),
            given_at=clock.now(),
        )
        _audit(actor, "relaylog.consent.given", log, obj=consent, service=service, method="digital")
        _after_consent(log, actor)
    return consent


def _store_file(log: RelayLog, actor: Any, upload: UploadedFile, field: str) -> Attachment:
    try:
        [checked] = check_files(
            [upload], settings=MessagingSettings(max_attachment_mb=MAX_ATTACHMENT_MB)
        )
    except ValidationError as exc:
        raise ValidationError({field: exc.message_dict.get("attachments", exc.messages)}) from exc
    attachment = Attachment(
        log=log,
        filename=checked.filename,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=hashlib.sha256(checked.data).hexdigest(),
        uploaded_by=actor,
        created_at=clock.now(),
    )
    attachment.ciphertext = filetypes.encrypt(checked.data, name=str(attachment.uuid))
    attachment.save(force_insert=True)
    return attachment


def consent_record_paper(
    *,
    actor: Any,
    log_id: int,
    given_by_kind: str,
    guardian_id: int | None,
    service: str = "",
    language: str = "nn",
    scanned_form: UploadedFile | None,
) -> Consent:
    """School staff taking part record a consent given on paper, with the scanned form."""
    if scanned_form is None:
        raise ValidationError({"scanned_form": _("Attach the scanned consent form.")})
    with transaction.atomic():
        log, participant = _gate(actor, log_id)
        _open(log)
        if participant.kind != Kind.STAFF:
            raise PermissionDenied
        service = _service_name(log, service)
        person: Any = None
        if given_by_kind == Consent.By.GUARDIAN:
            guardianship = (
                access.consenting_guardianships(log.pupil).filter(guardian_id=guardian_id).first()
            )
            if guardianship is None:
                raise ValidationError(
                    {"guardian": _("Choose a guardian with parental responsibility.")}
                )
            person, name = guardianship.guardian, guardianship.guardian.get_full_name()
        elif given_by_kind == Consent.By.PUPIL:
            if not access.pupil_consents(log.pupil, log.school.municipality_id):
                raise ValidationError(_("The pupil is under the consent age."))
            pupil_part = Participant.objects.filter(
                log=log, kind=Kind.PUPIL, removed_at=None
            ).first()
            person = pupil_part.user if pupil_part else None
            name = log.pupil.full_name
        else:
            raise ValidationError(_("Choose who gave the consent."))
        if _live(log, given_by_kind, person, service) is not None:
            raise ValidationError(_("This consent is already recorded."))
        form = _store_file(log, actor, scanned_form, "scanned_form")
        consent = Consent.objects.create(
            log=log,
            given_by_kind=given_by_kind,
            given_by=person,
            given_by_name=name,
            service=service,
            method=Consent.Method.PAPER,
            language=language if language in LANGUAGES else "nn",
            text=consent_text(log, service, language if language in LANGUAGES else "nn"),
            recorded_by=actor,
            scanned_form=form,
            given_at=clock.now(),
        )
        _audit(
            actor, "relaylog.consent.recorded", log, obj=consent, service=service, method="paper"
        )
        _after_consent(log, actor)
    return consent


def consent_withdraw(*, actor: Any, log_id: int, consent_id: int) -> Consent:
    """The person who consented (or staff recording a withdrawal on paper) withdraws it.
    A service loses its access at once; without the consent to the log itself, the log
    is a draft again and no other service reads it."""
    with transaction.atomic():
        log, participant = _gate(actor, log_id)
        _open(log)
        consent = Consent.objects.filter(log=log, pk=consent_id, withdrawn_at=None).first()
        if consent is None:
            raise ValidationError(_("This consent is already withdrawn."))
        own = consent.given_by_id is not None and consent.given_by_id == actor.pk
        if not own and participant.kind != Kind.STAFF:
            raise PermissionDenied
        consent.withdrawn_at = clock.now()
        consent.withdrawn_by = actor
        consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
        if consent.service == "" and log.state == State.ACTIVE:
            log.state = State.DRAFT
            log.save(update_fields=["state"])
        _audit(actor, "relaylog.consent.withdrawn", log, obj=consent, service=consent.service)
    return consent


# --- participants ---------------------------------------------------------------------


def _external_user(*, email: str, full_name: str, phone: str) -> tuple[Any, bool]:
    """The account of a person from outside the school (or the pupil), found by the
    e-mail address the holder gave or made with no password, and whether they must join
    through a link: everyone who cannot log in yet, who then logs in with ID-porten."""
    User = get_user_model()
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": _("Enter a valid e-mail address.")})
    user = User.objects.filter(email=email).first()
    if user is not None:
        # Bound to an identity already, or a guardian's or staff member's account with a
        # password of its own; anyone else logs in with ID-porten only, so joins first.
        roles = roles_of(user)
        has_role = roles.is_guardian or roles.is_staff_member or user.is_staff
        way_in = bool(user.nin_digest) or (has_role and user.has_usable_password())
        return user, not (user.is_active and way_in)
    full_name = _text(full_name, "full_name")
    user = User.objects.create_user(email=email, password=None, full_name=full_name, phone=phone)
    return user, True


def _join_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _join_link_send(actor: Any, log: RelayLog, participant: Participant) -> JoinLink:
    """A single-use link, valid a week, for the invited person to join with ID-porten."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    link = JoinLink.objects.create(
        participant=participant,
        token_digest=_join_digest(token),
        sent_by=actor,
        sent_at=now,
        expires_at=now + JoinLink.VALID_FOR,
    )
    notify(
        recipient=participant.user,
        kind=JOIN.code,
        dedup_key=f"relaylog-join:{link.pk}",
        payload=_payload(log),
        url=reverse("relaylog_join", args=[token]),
        school_id=log.school_id,
    )
    return link


def join_link_open(token: str) -> JoinLink | None:
    """The join link behind ``token`` while it is unused, valid and its person still
    invited; None otherwise."""
    return (
        JoinLink.objects.select_related("participant__log__pupil", "participant__user")
        .filter(
            token_digest=_join_digest(token or ""),
            used_at=None,
            expires_at__gt=clock.now(),
            participant__removed_at=None,
        )
        .first()
    )


def _account_with(digest: str) -> Any:
    """The account with this identity-number digest, locked, or None."""
    return get_user_model().objects.select_for_update().filter(nin_digest=digest).first()


def _join_refused(message: str) -> ValidationError:
    return ValidationError(message, code="join")


def participant_join(*, token: str, pid: str) -> tuple[Any, Participant]:
    """The invited person, just logged in with ID-porten, uses the join link: the
    participation is bound to their identity number (its keyed digest) and the link is
    used up. If another account already has that identity (a guardian, a citizen, a person
    in another log), the participation moves to it and the account made for the
    invitation is left unusable. Returns the bound account and the participation."""
    from django.db import IntegrityError

    from kontaktbok.national.services import is_citizen_account
    from kontaktbok.schools.identity import nin_digest

    digest = nin_digest(pid)
    User = get_user_model()
    with transaction.atomic(durable=True):
        link = (
            JoinLink.objects.select_for_update()
            .filter(
                token_digest=_join_digest(token or ""),
                used_at=None,
                expires_at__gt=clock.now(),
                participant__removed_at=None,
            )
            .first()
        )
        if link is None:
            raise _join_refused(
                _("This link is used or too old. Ask the holder of the relay log for a new one.")
            )
        participant = Participant.objects.select_related("log__pupil", "user").get(
            pk=link.participant_id
        )
        log, invited = participant.log, participant.user
        if participant.kind == Kind.PUPIL and log.pupil.nin_digest not in (None, "", digest):
            raise _join_refused(
                _("This link is for the pupil. The pupil must log in with their own ID-porten.")
            )
        if invited.nin_digest and invited.nin_digest != digest:
            raise _join_refused(_("This link was sent to another person."))
        user = _account_with(digest)
        if user is None:
            try:
                with transaction.atomic():  # a savepoint: a lost race leaves the rest usable
                    User.objects.filter(pk=invited.pk).update(nin_digest=digest)
                user = invited
            except IntegrityError:  # another request gave this identity to an account
                user = _account_with(digest)
                if user is None:
                    raise
        if user.pk != invited.pk:
            if not is_citizen_account(user):
                raise _join_refused(
                    _(
                        "Your identity number belongs to a staff account here. Ask the holder "
                        "to invite you as school staff."
                    )
                )
            if (
                Participant.objects.filter(log=log, user=user, removed_at=None).exists()
                or access.consenting_guardianships(log.pupil).filter(guardian=user).exists()
            ):
                raise _join_refused(_("You already take part in this relay log."))
            participant.user = user
            participant.save(update_fields=["user"])
            if not Participant.objects.filter(user=invited, removed_at=None).exists():
                invited.email = None
                invited.is_active = False
                invited.set_unusable_password()
                invited.save(update_fields=["email", "is_active", "password"])
        link.used_at = clock.now()
        link.save(update_fields=["used_at"])
        JoinLink.objects.filter(participant=participant, used_at=None).update(
            expires_at=link.used_at
        )
        _audit(
            user,
            "relaylog.participant.joined",
            log,
            obj=participant,
            kind=participant.kind,
            moved=user.pk != invited.pk,
        )
    return user, participant


def participant_invite(
    *,
    actor: Any,
    log_id: int,
    kind: str,
    user_id: int | None = None,
    email: str = "",
    full_name: str = "",
    phone: str = "",
    service: str = "",
    role: str = "",
) -> Participant:
    """The holder invites school staff (by account), the pupil from the consent age, or a
    person from another service (who reads only once the consents naming the service are
    given). A person who cannot log in yet gets a join link, used once with an ID-porten
    login; no one from outside the school ever gets a password."""
    with transaction.atomic():
        log, _p = _gate_holder(actor, log_id)
        _open(log)
        service = (service or "").strip()[:100]
        if kind == Kind.STAFF:
            user = get_user_model().objects.filter(pk=user_id or 0, is_active=True).first()
            if user is None or log.school_id not in roles_of(user).school_roles:
                raise ValidationError({"user": _("Choose a staff member of the school.")})
            must_join = False
        elif kind == Kind.SERVICE:
            if not service:
                raise ValidationError({"service": _("Name the service the person represents.")})
            user, must_join = _external_user(email=email, full_name=full_name, phone=phone)
        elif kind == Kind.PUPIL:
            if not access.pupil_consents(log.pupil, log.school.municipality_id):
                raise ValidationError(_("The pupil is under the consent age."))
            user, must_join = _external_user(
                email=email, full_name=full_name or log.pupil.full_name, phone=phone
            )
        else:
            raise ValidationError(_("Choose who to invite."))
        if (
            roles_of(user).is_guardian
            and kind != Kind.STAFF
            and access.consenting_guardianships(log.pupil).filter(guardian=user).exists()
        ):
            raise ValidationError(_("This person already takes part as a guardian."))
        if Participant.objects.filter(log=log, user=user, removed_at=None).exists():
            raise ValidationError(_("This person already takes part."))
        participant = Participant.objects.create(
            log=log,
            user=user,
            kind=kind,
            service=service if kind == Kind.SERVICE else "",
            role=(role or "").strip()[:100],
            added_by=actor,
            added_at=clock.now(),
        )
        if must_join:
            _join_link_send(actor, log, participant)
        else:
            notify(
                recipient=user,
                kind=INVITED.code,
                dedup_key=f"relaylog-invited:{participant.pk}",
                payload=_payload(log),
                url=_link(log),
                school_id=log.school_id,
            )
        if kind == Kind.SERVICE:
            guardians = [g.guardian for g in access.consenting_guardianships(log.pupil)]
            notify_many(
                kind=CONSENT.code,
                items=[
                    Outgoing(
                        recipient=g,
                        dedup_key=f"relaylog-consent:{log.pk}:{service}",
                        payload=_payload(log),
                        url=_link(log),
                    )
                    for g in guardians
                ],
                school_id=log.school_id,
            )
        _audit(
            actor,
            "relaylog.participant.invited",
            log,
            obj=participant,
            kind=kind,
            service=service,
            user=user.pk,
        )
    return participant


def participant_remove(*, actor: Any, log_id: int, participant_id: int) -> None:
    """The holder removes a participant (not a guardian, nor the holder)."""
    with transaction.atomic():
        log, _p = _gate_holder(actor, log_id)
        _open(log)
        participant = Participant.objects.filter(
            log=log, pk=participant_id, removed_at=None
        ).first()
        if (
            participant is None
            or participant.kind == Kind.GUARDIAN
            or participant.user_id == log.holder_id
        ):
            raise ValidationError(_("This participant cannot be removed."))
        participant.removed_at = clock.now()
        participant.save(update_fields=["removed_at"])
        _audit(
            actor, "relaylog.participant.removed", log, obj=participant, user=participant.user_id
        )


# --- the baton -----------------------------------------------------------------------


def handover_request(*, actor: Any, log_id: int, to_user_id: int) -> Handover:
    """The holder asks another participant (school staff or another service) to take the
    baton; the holder keeps it until they accept."""
    with transaction.atomic():
        log, _p = _gate_holder(actor, log_id)
        _open(log)
        target = (
            Participant.objects.filter(
                log=log, user_id=to_user_id, removed_at=None, kind__in=[Kind.STAFF, Kind.SERVICE]
            )
            .select_related("user")
            .first()
        )
        if target is None or target.user_id == actor.pk or not access.grants_reading(target, log):
            raise ValidationError(
                {"to_user": _("Choose another participant from the school or a service.")}
            )
        if Handover.objects.filter(log=log, state=Handover.State.REQUESTED).exists():
            raise ValidationError(_("A handover is already waiting for an answer."))
        handover = Handover.objects.create(
            log=log,
            from_user=actor,
            to_user=target.user,
            state=Handover.State.REQUESTED,
            requested_at=clock.now(),
        )
        notify(
            recipient=target.user,
            kind=HANDOVER.code,
            dedup_key=f"relaylog-handover:{handover.pk}",
            payload=_payload(log),
            url=_link(log),
            school_id=log.school_id,
        )
        _audit(actor, "relaylog.handover.requested", log, obj=handover, to_user=target.user_id)
    return handover


def handover_answer(*, actor: Any, log_id: int, handover_id: int, accept: bool) -> Handover:
    """The asked participant accepts the baton (and becomes the holder) or declines it.
    The holder may also cancel a request not yet answered."""
    with transaction.atomic():
        log, _p = _gate(actor, log_id)
        _open(log)
        handover = Handover.objects.filter(
            log=log, pk=handover_id, state=Handover.State.REQUESTED
        ).first()
        if handover is None:
            raise ValidationError(_("This handover is no longer waiting for an answer."))
        if handover.to_user_id == actor.pk:
            handover.state = Handover.State.ACCEPTED if accept else Handover.State.DECLINED
        elif handover.from_user_id == actor.pk and not accept:
            handover.state = Handover.State.CANCELLED
        else:
            raise PermissionDenied
        handover.decided_at = clock.now()
        handover.save(update_fields=["state", "decided_at"])
        if handover.state == Handover.State.ACCEPTED:
            log.holder = actor
            log.save(update_fields=["holder"])
        _audit(actor, f"relaylog.handover.{handover.state}", log, obj=handover)
    return handover


# --- the action plan -------------------------------------------------------------------


def _planner(actor: Any, log_id: int) -> tuple[RelayLog, Participant]:
    log, participant = _gate(actor, log_id)
    _active(log)
    if participant.kind not in (Kind.STAFF, Kind.SERVICE):
        raise PermissionDenied
    return log, participant


def goal_add(*, actor: Any, log_id: int, text: str) -> Goal:
    text = _text(text, "text")
    with transaction.atomic():
        log, _p = _planner(actor, log_id)
        goal = Goal.objects.create(log=log, text=text, created_by=actor, created_at=clock.now())
        _audit(actor, "relaylog.goal.added", log, obj=goal)
    return goal


def measure_add(
    *,
    actor: Any,
    log_id: int,
    goal_id: int,
    text: str,
    responsible: str,
    deadline: dt.date,
    evaluate_on: dt.date,
) -> Measure:
    text = _text(text, "text")
    responsible = _text(responsible, "responsible")[:200]
    if evaluate_on < clock.today():
        raise ValidationError({"evaluate_on": _("The evaluation date cannot be in the past.")})
    with transaction.atomic():
        log, _p = _planner(actor, log_id)
        goal = Goal.objects.filter(log=log, pk=goal_id).first()
        if goal is None:
            raise ValidationError({"goal": _("Choose a goal of this plan.")})
        measure = Measure.objects.create(
            goal=goal,
            text=text,
            responsible=responsible,
            deadline=deadline,
            evaluate_on=evaluate_on,
            created_by=actor,
            created_at=clock.now(),
        )
        _audit(actor, "relaylog.measure.added", log, obj=measure)
    return measure


def evaluation_add(
    *,
    actor: Any,
    log_id: int,
    measure_id: int,
    text: str,
    outcome: str,
    next_evaluation_on: dt.date | None = None,
) -> Evaluation:
    text = _text(text, "text")
    if outcome not in Evaluation.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    with transaction.atomic():
        log, _p = _planner(actor, log_id)
        measure = Measure.objects.filter(goal__log=log, pk=measure_id).first()
        if measure is None:
            raise ValidationError({"measure": _("Choose a measure of this plan.")})
        evaluation = Evaluation.objects.create(
            measure=measure,
            text=text,
            outcome=outcome,
            next_evaluation_on=next_evaluation_on,
            evaluated_by=actor,
            created_at=clock.now(),
        )
        if next_evaluation_on is not None:
            Measure.objects.filter(pk=measure.pk).update(evaluate_on=next_evaluation_on)
        _audit(actor, "relaylog.evaluation.added", log, obj=evaluation, measure=measure.pk)
    return evaluation


# --- entries ---------------------------------------------------------------------------


def entry_add(
    *,
    actor: Any,
    log_id: int,
    body: str,
    corrects_id: int | None = None,
    attachment: UploadedFile | None = None,
) -> Entry:
    """A new entry, by a participant, in their role. Entries are never changed: a
    correction is a new entry pointing to the one it corrects. The others taking part are
    told that there is a new entry, never what it says."""
    body = _text(body, "body")
    with transaction.atomic():
        log, participant = _gate(actor, log_id)
        _active(log)
        corrects = None
        if corrects_id is not None:
            corrects = Entry.objects.filter(log=log, pk=corrects_id).first()
            if corrects is None:
                raise ValidationError({"corrects": _("Choose an entry of this log.")})
        stored = _store_file(log, actor, attachment, "attachment") if attachment else None
        entry = Entry.objects.create(
            log=log,
            author=actor,
            author_name=actor.get_full_name(),
            author_role=_role_label(participant),
            body=body,
            corrects=corrects,
            attachment=stored,
            created_at=clock.now(),
        )
        others = [
            p.user
            for p in Participant.objects.filter(log=log, removed_at=None)
            .exclude(user=actor)
            .select_related("user")
            if access.grants_reading(p, log)
        ]
        notify_many(
            kind=ENTRY.code,
            items=[
                Outgoing(
                    recipient=u,
                    dedup_key=f"relaylog-entry:{entry.pk}",
                    payload=_payload(log),
                    url=_link(log),
                )
                for u in others
            ],
            school_id=log.school_id,
        )
        _audit(actor, "relaylog.entry.added", log, obj=entry, corrects=corrects_id)
    return entry


# --- reads -----------------------------------------------------------------------------


def record_reads(
    *, actor: Any, log: RelayLog, participant: Participant, entries: Sequence[Entry] = ()
) -> None:
    """Every read of a log and of each entry shown is audited, in one write; guardians see
    these rows in the log."""
    role = _role_label(participant)
    rows = [
        {
            "actor": actor,
            "action": "relaylog.log.read",
            "obj": log,
            "role": role,
            "school_id": log.school_id,
            "detail": {"log": log.pk},
        },
    ]
    rows += [
        {
            "actor": actor,
            "action": "relaylog.entry.read",
            "obj": entry,
            "role": role,
            "school_id": log.school_id,
            "detail": {"log": log.pk},
        }
        for entry in entries
    ]
    audit_log_many(*rows)  # one INSERT


def attachment_open(
    *, actor: Any, log_id: int, attachment_uuid: uuid.UUID
) -> tuple[Attachment, bytes]:
    """A participant opens a file of the log; audited."""
    log, participant = access.participation(actor, log_id)
    attachment = Attachment.objects.filter(log=log, uuid=attachment_uuid).first()
    if attachment is None:
        from django.http import Http404

        raise Http404
    data = filetypes.decrypt(bytes(attachment.ciphertext), name=str(attachment.uuid))
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="relaylog.attachment.read",
            obj=attachment,
            role=_role_label(participant),
            school_id=log.school_id,
            detail={"log": log.pk},
        )
    return attachment, data


def record_document_read(*, actor: Any, log: RelayLog, participant: Participant) -> None:
    """The closed log's PDF was opened; audited like any read."""
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="relaylog.document.read",
            obj=log,
            role=_role_label(participant),
            school_id=log.school_id,
            detail={"log": log.pk},
        )
