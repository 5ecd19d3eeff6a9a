"""Deciding (enkeltvedtak with its letter), appeals and their reconsideration."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.absence import services as absence_services
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.leave import kinds, pdf, rules, selectors
from kontaktbok.leave.models import (
    APPEAL_DAYS,
    Appeal,
    Decision,
    LeaveApplication,
)
from kontaktbok.leave.services.common import (
    Outcome,
    Role,
    Status,
    date_text,
    guardian_url,
    locked,
    payload,
    staff_url,
)
from kontaktbok.notifications.services import notify
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors


def _approved_period(
    application: LeaveApplication,
    outcome: str,
    approved_start: dt.date | None,
    approved_end: dt.date | None,
) -> tuple[dt.date | None, dt.date | None, int]:
    """The leave given by a decision, and its school days."""
    if outcome == Outcome.DECLINED:
        return None, None, 0
    if outcome == Outcome.APPROVED:
        return application.start_date, application.end_date, application.school_days
    errors: dict[str, str] = {}
    if approved_start is None:
        errors["approved_start"] = _("Give the first day of the leave given.")
    if approved_end is None:
        errors["approved_end"] = _("Give the last day of the leave given.")
    if errors:
        raise ValidationError(errors)
    assert approved_start is not None and approved_end is not None
    if approved_end < approved_start:
        raise ValidationError({"approved_end": _("The last day cannot be before the first day.")})
    if approved_start < application.start_date or approved_end > application.end_date:
        raise ValidationError(
            {"approved_start": _("The leave given must lie within the period applied for.")}
        )
    year = school_selectors.current_school_year(application.school, application.start_date)
    days = len(school_selectors.school_days(year, approved_start, approved_end)) if year else 0
    if days == 0:
        raise ValidationError({"approved_start": _("There are no school days in this period.")})
    if days >= application.school_days:
        raise ValidationError(
            {
                "approved_start": _(
                    "That is all the school days applied for: choose approve instead."
                )
            }
        )
    return approved_start, approved_end, days


def _role_label(actor: Any, application: LeaveApplication) -> str:
    title = selectors.staff_title(actor, application.school)
    if title:
        return title
    role = rules.role_for(actor, application)
    return str(Role(role).label).capitalize() if role else ""


def letter_context(
    application: LeaveApplication, decision: Decision, *, actor: Any
) -> dict[str, Any]:
    pupil = application.pupil
    leave_rules = selectors.rules_for(application.school)
    year = school_selectors.current_school_year(application.school, application.start_date)
    history = absence_selectors.absence_history(
        actor=actor, pupil=pupil, role=rules.role_for(actor, application)
    )
    group = pupil.groups.filter(access.current_year_q(), kind="class").order_by("pk").first()
    return {
        "application": application,
        "decision": decision,
        "pupil": pupil,
        "school": application.school,
        "group": group,
        "guardians": [g.guardian for g in selectors.responsible_guardians(pupil)],
        "consents": list(application.consents.select_related("guardian")),
        "leave_rules": leave_rules,
        "days_used": selectors.days_used(pupil, year, leave_rules, exclude=application),
        "absent_days": history.absent_days,
        "school_days_so_far": history.school_days,
        "letter_date": clock.today(),
        "religious_right": application.category == LeaveApplication.Category.RELIGIOUS
        and leave_rules.religious_holidays_right,
    }


def _make_decision(
    *,
    actor: Any,
    application: LeaveApplication,
    outcome: str,
    reasons: str,
    approved_start: dt.date | None,
    approved_end: dt.date | None,
    on_appeal: bool,
) -> Decision:
    """Write the decision and its letter, give or take back the leave days, and tell the
    guardians. Called inside the caller's transaction."""
    now = clock.now()
    start, end, days = _approved_period(application, outcome, approved_start, approved_end)
    language = application.school.language or "nn"
    with translation.override(language):
        role_label = _role_label(actor, application)
    decision = Decision.objects.create(
        application=application,
        outcome=outcome,
        approved_start=start,
        approved_end=end,
        approved_days=days,
        reasons=reasons.strip(),
        decided_by=actor,
        decided_by_name=actor.get_full_name(),
        decided_by_role=role_label,
        decided_at=now,
        appeal_deadline=clock.today() + dt.timedelta(days=APPEAL_DAYS),
        on_appeal=on_appeal,
        letter=b"",
    )
    decision.letter = pdf.render_pdf(
        "leave/decision_letter.html",
        letter_context(application, decision, actor=actor),
        language=language,
    )
    decision.save(update_fields=["letter"])
    reference = f"leave:{application.pk}"
    if start is not None and end is not None:
        absence_services.leave_days_record(
            actor=actor,
            pupil=application.pupil,
            start_date=start,
            end_date=end,
            reference=reference,
        )
    elif on_appeal:
        absence_services.leave_days_remove(actor=actor, reference=reference)
    application.status = Status.RECONSIDERED if on_appeal else outcome
    application.updated_at = now
    application.save(update_fields=["status", "updated_at"])
    audit_log(
        actor=actor,
        action="leave.decision.made",
        obj=application,
        role=rules.role_for(actor, application),
        school_id=application.school_id,
        detail={"outcome": outcome, "days": days, "on_appeal": on_appeal},
    )
    return decision


def _validate_decision(outcome: str, reasons: str) -> None:
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose approve, approve in part, or decline.")
    if not reasons.strip():
        errors["reasons"] = _("Give the reasons for the decision.")
    elif len(reasons.strip()) > 4000:
        errors["reasons"] = _("Keep the reasons to 4000 characters.")
    if errors:
        raise ValidationError(errors)


def _decider_application(actor: Any, application_id: int) -> LeaveApplication:
    application = selectors.staff_applications(actor=actor).filter(pk=application_id).first()
    if application is None or not rules.may_decide(actor, application):
        raise PermissionDenied
    return application


def leave_decide(
    *,
    actor: Any,
    application_id: int,
    outcome: str,
    reasons: str,
    approved_start: dt.date | None = None,
    approved_end: dt.date | None = None,
) -> Decision:
    """The decider approves, approves in part, or declines, with reasons (enkeltvedtak).
    The letter is made at once; both guardians are told and can read it in the app."""
    _decider_application(actor, application_id)
    _validate_decision(outcome, reasons)
    with transaction.atomic():
        application = locked(application_id)
        if application.status != Status.SUBMITTED:
            raise ValidationError(_("This application is not waiting for a decision."))
        decision = _make_decision(
            actor=actor,
            application=application,
            outcome=outcome,
            reasons=reasons,
            approved_start=approved_start,
            approved_end=approved_end,
            on_appeal=False,
        )
        for guardian in selectors.guardians_to_inform(application.pupil):
            notify(
                recipient=guardian,
                kind=kinds.DECIDED.code,
                dedup_key=f"leave.decided:{decision.pk}",
                payload=payload(application),
                url=guardian_url(application),
                school_id=application.school_id,
            )
    return decision


# --- appeals ------------------------------------------------------------------------------


def leave_appeal_create(*, actor: Any, application_id: int, text: str) -> Appeal:
    """A guardian appeals the decision within three weeks (forvaltningslova § 29)."""
    if not selectors.guardian_applications(actor=actor).filter(pk=application_id).exists():
        raise PermissionDenied
    if not text.strip():
        raise ValidationError({"text": _("Say what you want changed, and why.")})
    if len(text.strip()) > 4000:
        raise ValidationError({"text": _("Keep the appeal to 4000 characters.")})
    with transaction.atomic():
        application = locked(application_id)
        decision = application.decisions.order_by("-decided_at", "-id").first()
        if Appeal.objects.filter(application=application).exists():
            raise ValidationError(_("This decision has already been appealed."))
        if application.status not in LeaveApplication.DECIDED or decision is None:
            raise ValidationError(_("Only a decision can be appealed."))
        if decision.outcome == Outcome.APPROVED:
            raise ValidationError(
                _("All the leave applied for was given: there is nothing to appeal.")
            )
        if clock.today() > decision.appeal_deadline:
            raise ValidationError(
                _(
                    "The appeal deadline was %(date)s. If the letter reached you later, "
                    "write to the school."
                )
                % {"date": date_text(decision.appeal_deadline)}
            )
        appeal = Appeal.objects.create(
            application=application,
            decision=decision,
            guardian=actor,
            text=text.strip(),
            created_at=clock.now(),
        )
        application.status = Status.APPEAL_PENDING
        application.updated_at = clock.now()
        application.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="leave.appeal.created",
            obj=application,
            role="guardian",
            school_id=application.school_id,
        )
        for decider in selectors.deciders(application):
            notify(
                recipient=decider,
                kind=kinds.APPEAL_RECEIVED.code,
                dedup_key=f"leave.appeal:{appeal.pk}",
                payload=payload(application),
                url=staff_url(application),
                school_id=application.school_id,
            )
    return appeal


def _case_pdf(actor: Any, application: LeaveApplication, appeal: Appeal) -> bytes:
    language = application.school.language or "nn"
    with translation.override(language):
        role_label = _role_label(actor, application)
    context = {
        "application": application,
        "appeal": appeal,
        "pupil": application.pupil,
        "school": application.school,
        "guardians": [g.guardian for g in selectors.responsible_guardians(application.pupil)],
        "consents": list(application.consents.select_related("guardian")),
        "decisions": list(application.decisions.defer("letter")),
        "leave_rules": selectors.rules_for(application.school),
        "sent_on": clock.today(),
        "reconsidered_by": actor.get_full_name(),
        "reconsidered_role": role_label,
    }
    return pdf.render_pdf("leave/appeal_case.html", context, language=language)


def leave_appeal_reconsider(
    *,
    actor: Any,
    application_id: int,
    change: bool,
    note: str,
    outcome: str = "",
    reasons: str = "",
    approved_start: dt.date | None = None,
    approved_end: dt.date | None = None,
) -> Appeal:
    """The decider considers the appeal again (forvaltningslova § 33): either a new
    decision, or the decision stands and the appeal is sent on to the Statsforvaltar with
    the case as PDF."""
    _decider_application(actor, application_id)
    errors: dict[str, str] = {}
    if not note.strip():
        errors["note"] = _("Give the school's assessment of the appeal.")
    if change:
        try:
            _validate_decision(outcome, reasons)
        except ValidationError as error:
            errors.update({k: v[0] for k, v in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        application = locked(application_id)
        appeal = Appeal.objects.filter(application=application).first()
        if appeal is None or application.status != Status.APPEAL_PENDING:
            raise ValidationError(_("There is no appeal waiting to be considered."))
        now = clock.now()
        appeal.note = note.strip()[:4000]
        appeal.reconsidered_by = actor
        appeal.reconsidered_at = now
        if change:
            before = appeal.decision
            start, end, _days = _approved_period(application, outcome, approved_start, approved_end)
            if (outcome, start, end) == (
                before.outcome,
                before.approved_start,
                before.approved_end,
            ):
                raise ValidationError(
                    _("The new decision is the same as the one appealed: uphold it instead.")
                )
            _make_decision(
                actor=actor,
                application=application,
                outcome=outcome,
                reasons=reasons,
                approved_start=approved_start,
                approved_end=approved_end,
                on_appeal=True,
            )
            appeal.outcome = Appeal.Outcome.CHANGED
        else:
            appeal.outcome = Appeal.Outcome.UPHELD
            appeal.sent_on_at = now
            appeal.case_pdf = _case_pdf(actor, application, appeal)
            application.status = Status.SENT_TO_STATSFORVALTER
            application.updated_at = now
            application.save(update_fields=["status", "updated_at"])
        appeal.save()
        audit_log(
            actor=actor,
            action="leave.appeal.reconsidered",
            obj=application,
            role=rules.role_for(actor, application),
            school_id=application.school_id,
            detail={"outcome": appeal.outcome},
        )
        for guardian in selectors.guardians_to_inform(application.pupil):
            notify(
                recipient=guardian,
                kind=kinds.APPEAL_OUTCOME.code,
                dedup_key=f"leave.appeal_outcome:{appeal.pk}",
                payload=payload(application),
                url=guardian_url(application),
                school_id=application.school_id,
            )
    return appeal
