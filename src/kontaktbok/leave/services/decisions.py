"""Deciding (enkeltvedtak), appeals and their reconsideration. The letter, the leave days
in the absence part and telling the guardians follow in a worker (``follow_up``)."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.leave import rules
from kontaktbok.leave.models import (
    APPEAL_DAYS,
    Appeal,
    Decision,
    LeaveApplication,
)
from kontaktbok.leave.services.common import (
    Outcome,
    Status,
    appeal_of,
    locked,
    tasks,
)
from kontaktbok.leave.services.letters import role_label
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


def _make_decision(
    *,
    actor: Any,
    application: LeaveApplication,
    outcome: str,
    reasons: str,
    approved_start: dt.date | None,
    approved_end: dt.date | None,
    on_appeal: bool,
) -> tuple[Decision, dict[str, Any]]:
    """Write the decision; returns it and its audit entry. Called inside the caller's
    transaction, with ``application`` from ``locked(..., as_staff=True)``. The letter, the
    leave days and telling the guardians follow in a worker (``decision_finish``)."""
    now = clock.now()
    start, end, days = _approved_period(application, outcome, approved_start, approved_end)
    role = rules.role_for(actor, application)
    with translation.override(application.school.language or "nn"):
        label = role_label(getattr(application, "actor_title", None) or "", role)
    decision = Decision.objects.create(
        application=application,
        outcome=outcome,
        approved_start=start,
        approved_end=end,
        approved_days=days,
        reasons=reasons.strip(),
        decided_by=actor,
        decided_by_name=actor.get_full_name(),
        decided_by_role=label,
        decided_as=role,
        decided_at=now,
        # Until the letter is made (``letters.decision_letter_render``), which moves it
        # to three weeks from the day the guardians can read it.
        appeal_deadline=clock.today() + dt.timedelta(days=APPEAL_DAYS),
        on_appeal=on_appeal,
        letter=b"",
    )
    # Not made yet: read from the database when asked for, as made by the worker.
    del decision.__dict__["letter"]
    application.status = Status.RECONSIDERED if on_appeal else outcome
    application.updated_at = now
    application.save(update_fields=["status", "updated_at"])
    entry = {
        "actor": actor,
        "action": "leave.decision.made",
        "obj": application,
        "role": role,
        "school_id": application.school_id,
        "detail": {"outcome": outcome, "days": days, "on_appeal": on_appeal},
    }
    return decision, entry


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
    A worker, queued in the same transaction, then records the leave days, makes and
    stores the letter, and only then tells the guardians, who read it in the app."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=True)
        if not rules.may_decide(actor, application):
            raise PermissionDenied
        _validate_decision(outcome, reasons)
        if application.status != Status.SUBMITTED:
            raise ValidationError(_("This application is not waiting for a decision."))
        decision, entry = _make_decision(
            actor=actor,
            application=application,
            outcome=outcome,
            reasons=reasons,
            approved_start=approved_start,
            approved_end=approved_end,
            on_appeal=False,
        )
        audit_log(**entry)
        tasks().finish_decision.enqueue(decision_id=decision.pk)
    return decision


# --- appeals ------------------------------------------------------------------------------


def leave_appeal_create(*, actor: Any, application_id: int, text: str) -> Appeal:
    """A guardian appeals the decision, within three weeks (forvaltningslova § 29). An
    appeal after the deadline is received all the same and marked late: the decider
    considers whether to deal with it (§ 31), for instance when the letter reached the
    guardian later."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=False, with_appeal=True)
        if not text.strip():
            raise ValidationError({"text": _("Say what you want changed, and why.")})
        if len(text.strip()) > 4000:
            raise ValidationError({"text": _("Keep the appeal to 4000 characters.")})
        if appeal_of(application) is not None:
            raise ValidationError(_("This decision has already been appealed."))
        decision = application.decisions.defer("letter").order_by("-decided_at", "-id").first()
        if application.status not in LeaveApplication.DECIDED or decision is None:
            raise ValidationError(_("Only a decision can be appealed."))
        if decision.outcome == Outcome.APPROVED:
            raise ValidationError(
                _("All the leave applied for was given: there is nothing to appeal.")
            )
        now = clock.now()
        appeal = Appeal.objects.create(
            application=application,
            decision=decision,
            guardian=actor,
            text=text.strip(),
            created_at=now,
            late=clock.today() > decision.appeal_deadline,
        )
        application.appeal = appeal
        application.status = Status.APPEAL_PENDING
        application.updated_at = now
        application.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="leave.appeal.created",
            obj=application,
            role="guardian",
            school_id=application.school_id,
            detail={"late": appeal.late},
        )
        tasks().tell_appeal_received.enqueue(appeal_id=appeal.pk)
    return appeal


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
    decision, or the decision stands and the appeal goes to the appeal body with the case
    as PDF. A worker, queued in the same transaction, makes the new letter or the case and
    then tells the guardians (and, for the case, the decider, who sends it on:
    ``leave_appeal_sent_on``)."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=True, with_appeal=True)
        if not rules.may_decide(actor, application):
            raise PermissionDenied
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
        appeal = appeal_of(application)
        if appeal is None or application.status != Status.APPEAL_PENDING:
            raise ValidationError(_("There is no appeal waiting to be considered."))
        now = clock.now()
        appeal.note = note.strip()[:4000]
        appeal.reconsidered_by = actor
        appeal.reconsidered_at = now
        entries = []
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
            decision, entry = _make_decision(
                actor=actor,
                application=application,
                outcome=outcome,
                reasons=reasons,
                approved_start=approved_start,
                approved_end=approved_end,
                on_appeal=True,
            )
            entries.append(entry)
            appeal.outcome = Appeal.Outcome.CHANGED
        else:
            appeal.outcome = Appeal.Outcome.UPHELD
            application.status = Status.SENT_TO_STATSFORVALTER
            application.updated_at = now
            application.save(update_fields=["status", "updated_at"])
        appeal.save(update_fields=["note", "reconsidered_by", "reconsidered_at", "outcome"])
        entries.append(
            {
                "actor": actor,
                "action": "leave.appeal.reconsidered",
                "obj": application,
                "role": rules.role_for(actor, application),
                "school_id": application.school_id,
                "detail": {"outcome": appeal.outcome},
            }
        )
        audit_log_many(*entries)
        if change:
            tasks().finish_decision.enqueue(decision_id=decision.pk)
        else:
            tasks().finish_upheld_appeal.enqueue(appeal_id=appeal.pk)
    return appeal


def leave_appeal_sent_on(*, actor: Any, application_id: int) -> Appeal:
    """The decider records that they have sent the case of an upheld appeal to the appeal
    body; the guardians are told. Recording it again changes nothing (a second tap)."""
    with transaction.atomic():
        application = locked(actor, application_id, as_staff=True, with_appeal=True)
        if not rules.may_decide(actor, application):
            raise PermissionDenied
        appeal = appeal_of(application)
        if appeal is None or appeal.outcome != Appeal.Outcome.UPHELD:
            raise ValidationError(_("There is no upheld appeal to send on."))
        if appeal.sent_on_at is not None:
            return appeal
        appeal.sent_on_at = clock.now()
        appeal.sent_on_by = actor
        appeal.save(update_fields=["sent_on_at", "sent_on_by"])
        audit_log(
            actor=actor,
            action="leave.appeal.sent_on",
            obj=application,
            role=rules.role_for(actor, application),
            school_id=application.school_id,
        )
        tasks().tell_appeal_sent_on.enqueue(appeal_id=appeal.pk)
    return appeal
