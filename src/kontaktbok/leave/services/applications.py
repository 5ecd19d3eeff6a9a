"""Applying for leave, the other guardian's consent, and withdrawing.

The people told about a step (the other guardian, the deciders, the applicant) are told by
a worker, queued in the step's own transaction (``leave.tasks``)."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.leave import rules, selectors
from kontaktbok.leave.models import (
    Consent,
    LeaveApplication,
)
from kontaktbok.leave.services.common import (
    Status,
    check_text,
    date_text,
    known_related,
    locked,
    tasks,
)
from kontaktbok.schools import selectors as school_selectors

GIVEN = (Consent.Status.AGREED, Consent.Status.RECORDED_BY_SCHOOL)


def leave_application_create(
    *,
    actor: Any,
    pupil_id: int,
    category: str,
    reason: str,
    learning_plan: str,
    start_date: dt.date,
    end_date: dt.date,
    rules_confirmed: bool,
    idempotency_key: str | None = None,
) -> LeaveApplication:
    """A guardian applies for leave for their child. School days are counted (weekends and
    holidays skipped); a late or over-the-limit application is accepted with a warning.
    When another guardian shares parental responsibility, they are asked to agree first.
    A retry with the same ``idempotency_key`` returns the first application. One
    transaction from the read of the child's applications to the write, so a second
    application sent at the same moment sees this one (overlap, days used)."""
    try:
        with transaction.atomic():
            return _apply(
                actor=actor,
                pupil_id=pupil_id,
                category=category,
                reason=reason,
                learning_plan=learning_plan,
                start_date=start_date,
                end_date=end_date,
                rules_confirmed=rules_confirmed,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same request, sent twice at once: the other one won.
        return LeaveApplication.objects.get(applicant=actor, idempotency_key=idempotency_key)


def _apply(
    *,
    actor: Any,
    pupil_id: int,
    category: str,
    reason: str,
    learning_plan: str,
    start_date: dt.date,
    end_date: dt.date,
    rules_confirmed: bool,
    idempotency_key: str | None = None,
) -> LeaveApplication:
    """``leave_application_create``, in its transaction."""
    guardianships = selectors.own_child_and_guardians(actor=actor, pupil_id=pupil_id, lock=True)
    if not guardianships:
        raise PermissionDenied
    pupil = guardianships[0].pupil
    school = pupil.school
    leave_rules = selectors.rules_for(school, remember=True)
    year = school_selectors.current_school_year(school, start_date)
    # One read: this school year's applications (the days used, overlaps) and a retry's first.
    retry = Q(applicant=actor, idempotency_key=idempotency_key) if idempotency_key else None
    known = selectors.pupil_applications(pupil, year, also=retry)
    if idempotency_key:
        existing = next((a for a in known if a.idempotency_key == idempotency_key), None)
        if existing is not None and existing.applicant_id == actor.pk:
            existing.pupil, existing.school, existing.applicant = pupil, school, actor
            return existing
    errors: dict[str, str] = {}
    if category not in LeaveApplication.Category.values:
        errors["category"] = _("Choose a reason from the list.")
    check_text(errors, "reason", reason, _("Tell the school about the reason."))
    check_text(
        errors,
        "learning_plan",
        learning_plan,
        _("Tell the school how the child's learning will be taken care of."),
    )
    if not rules_confirmed:
        errors["rules_confirmed"] = _("Confirm that you have read the school's leave rules.")
    today = clock.today()
    if start_date < today:
        errors["start_date"] = _("Leave cannot be applied for days that have passed.")
    if end_date < start_date:
        errors["end_date"] = _("The last day cannot be before the first day.")
    days: list[dt.date] = []
    if "start_date" not in errors and "end_date" not in errors:
        if year is None or start_date < year.starts_on or end_date > year.ends_on:
            errors["end_date"] = _("The leave must lie within one school year.")
        else:
            days = school_selectors.school_days(year, start_date, end_date)
            if not days:
                errors["start_date"] = _("There are no school days in this period.")
    if not errors:
        # Within the school year, so among those read above.
        overlapping = next(
            (
                a
                for a in known
                if a.start_date <= end_date
                and a.end_date >= start_date
                and a.status not in LeaveApplication.INACTIVE
            ),
            None,
        )
        if overlapping is not None:
            errors["start_date"] = _(
                "There is already an application for leave from %(start)s to %(end)s. "
                "Withdraw it first, or choose other days."
            ) % {"start": date_text(overlapping.start_date), "end": date_text(overlapping.end_date)}
    if errors:
        raise ValidationError(errors)
    assert year is not None
    used = selectors.granted_days(known, year, leave_rules)
    over_limit = (
        selectors.counts_against_limit(leave_rules, category)
        and used + len(days) > leave_rules.max_days_per_year
    )
    # Every other guardian with parental responsibility must agree; one kept from a pupil
    # with a protected address is not asked in the app (the school records their consent).
    others = [g.guardian for g in guardianships if g.guardian != actor]
    askable = selectors.guardian_ids_to_ask(pupil, actor) if others else set()
    to_ask = [g.pk for g in others if g.pk in askable]
    now = clock.now()
    application = LeaveApplication.objects.create(
        pupil=pupil,
        school=school,
        applicant=actor,
        category=category,
        reason=reason.strip(),
        learning_plan=learning_plan.strip(),
        start_date=start_date,
        end_date=end_date,
        school_days=len(days),
        late=selectors.is_late(leave_rules, start_date, today),
        over_limit=over_limit,
        days_before=used,
        rules_confirmed=True,
        rules_text=leave_rules.rules_text,
        status=Status.AWAITING_CONSENT if others else Status.SUBMITTED,
        decider_role=selectors.decider_for(leave_rules, len(days)),
        idempotency_key=idempotency_key or None,
        created_at=now,
        submitted_at=None if others else now,
        updated_at=now,
    )
    consents = Consent.objects.bulk_create(
        Consent(application=application, guardian=other) for other in others
    )
    audit_log(
        actor=actor,
        action="leave.application.created",
        obj=application,
        role="guardian",
        school_id=school.pk,
        detail={
            "days": len(days),
            "late": application.late,
            "over_limit": over_limit,
            "decider": application.decider_role,
        },
    )
    if to_ask:
        tasks().ask_for_consent.enqueue(application_id=application.pk, guardian_ids=to_ask)
    if not others:
        tasks().tell_deciders.enqueue(application_id=application.pk)
    # What a new application has, known without reading it again.
    known_related(application, consents=consents, decisions=[])
    return application


def _submit_if_agreed(application: LeaveApplication, consents: list[Consent]) -> bool:
    """The application reaches the school when every other guardian has agreed, or the
    school has recorded their consent given another way."""
    if any(c.status not in GIVEN for c in consents):
        return False
    now = clock.now()
    application.status = Status.SUBMITTED
    application.submitted_at = now
    application.updated_at = now
    application.save(update_fields=["status", "submitted_at", "updated_at"])
    return True


def _submitted(actor: Any, application: LeaveApplication) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": "leave.application.submitted",
        "obj": application,
        "school_id": application.school_id,
    }


def leave_consent_answer(*, actor: Any, application_id: int, agree: bool) -> Consent:
    """The other guardian agrees to the application, or does not (then it stops)."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=False)
        consents = list(application.consents.all())
        consent = next((c for c in consents if c.guardian_id == actor.pk), None)
        if consent is None:
            raise ValidationError(_("You are not asked to agree to this application."))
        if (
            application.status != Status.AWAITING_CONSENT
            or consent.status != Consent.Status.PENDING
        ):
            raise ValidationError(_("This application is no longer waiting for your answer."))
        consent.status = Consent.Status.AGREED if agree else Consent.Status.DECLINED
        consent.answered_at = clock.now()
        consent.save(update_fields=["status", "answered_at"])
        entries = [
            {
                "actor": actor,
                "action": "leave.consent." + ("agreed" if agree else "declined"),
                "obj": application,
                "role": "guardian",
                "school_id": application.school_id,
            }
        ]
        submitted = agree and _submit_if_agreed(application, consents)
        if submitted:
            entries.append(_submitted(actor, application))
        elif not agree:
            application.status = Status.CONSENT_DECLINED
            application.updated_at = clock.now()
            application.save(update_fields=["status", "updated_at"])
        audit_log_many(*entries)
        if submitted:
            tasks().tell_deciders.enqueue(application_id=application.pk)
        elif not agree and application.applicant_id is not None:
            tasks().tell_consent_declined.enqueue(application_id=application.pk)
    return consent


def leave_consent_record(
    *, actor: Any, application_id: int, guardian_id: int, note: str
) -> Consent:
    """The school records the other guardian's consent given another way (on paper, by
    phone), with a note of how."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=True)
        if not rules.may_record_consent(actor, application):
            raise PermissionDenied
        if not note.strip():
            raise ValidationError(
                {"note": _("Say how the consent was given, for example in a signed letter.")}
            )
        consents = list(application.consents.all())
        consent = next((c for c in consents if c.guardian_id == guardian_id), None)
        if (
            consent is None
            or application.status != Status.AWAITING_CONSENT
            or consent.status != Consent.Status.PENDING
        ):
            raise ValidationError(_("This application is not waiting for that guardian."))
        consent.status = Consent.Status.RECORDED_BY_SCHOOL
        consent.note = note.strip()[:300]
        consent.recorded_by = actor
        consent.answered_at = clock.now()
        consent.save(update_fields=["status", "note", "recorded_by", "answered_at"])
        entries = [
            {
                "actor": actor,
                "action": "leave.consent.recorded",
                "obj": application,
                "role": rules.role_for(actor, application),
                "school_id": application.school_id,
                "detail": {"guardian": guardian_id},
            }
        ]
        submitted = _submit_if_agreed(application, consents)
        if submitted:
            entries.append(_submitted(actor, application))
        audit_log_many(*entries)
        if submitted:
            tasks().tell_deciders.enqueue(application_id=application.pk)
    return consent


def leave_application_withdraw(*, actor: Any, application_id: int) -> LeaveApplication:
    """A guardian withdraws an application the school has not decided yet."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=False)
        if application.status not in LeaveApplication.OPEN:
            raise ValidationError(_("Only an application that is not decided can be withdrawn."))
        application.status = Status.WITHDRAWN
        application.updated_at = clock.now()
        application.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="leave.application.withdrawn",
            obj=application,
            role="guardian",
            school_id=application.school_id,
        )
    return application
