"""JSON API for leave: applications, the other guardian's consent, decisions and appeals.

Thin: every call goes through the leave services and selectors with the caller as actor.
A foreign id (or an action the caller may not take) answers 404; a refused input 422 with
the messages per field.
"""

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Header, Router, Schema, Status

from kontaktbok.core.api import ERRORS, scoped
from kontaktbok.core.ratelimit import throttles
from kontaktbok.leave import selectors, services
from kontaktbok.leave.models import Appeal, Consent, Decision, LeaveApplication

router = Router(tags=["leave"])


# --- schemas --------------------------------------------------------------------------


class ApplicationIn(Schema):
    pupil_id: int
    start_date: dt.date
    end_date: dt.date
    category: str = Field(description="travel, religious, sport_culture or other")
    reason: str = Field(max_length=1000)
    learning_plan: str = Field(max_length=1000, description="How the learning is taken care of")
    rules_confirmed: bool = Field(description="The guardian has read the school's leave rules")


class ConsentIn(Schema):
    agree: bool


class RecordedConsentIn(Schema):
    guardian_id: int
    note: str = Field(max_length=300, description="How the consent was given")


class DecisionIn(Schema):
    outcome: str = Field(description="approved, partly_approved or declined")
    reasons: str = Field(max_length=4000)
    approved_start: dt.date | None = Field(None, description="For partly_approved")
    approved_end: dt.date | None = None


class AppealIn(Schema):
    text: str = Field(max_length=4000)


class ReconsiderIn(Schema):
    change: bool = Field(
        description="True: a new decision; false: the decision stands and the appeal goes "
        "to the appeal body (the decider sends the case and records it: .../appeal/sent-on)"
    )
    note: str = Field(max_length=4000, description="The school's assessment of the appeal")
    outcome: str = ""
    reasons: str = Field("", max_length=4000)
    approved_start: dt.date | None = None
    approved_end: dt.date | None = None


class ConsentOut(Schema):
    guardian_id: int
    guardian: str
    status: str
    note: str
    answered_at: dt.datetime | None


class DecisionOut(Schema):
    id: int
    outcome: str
    approved_start: dt.date | None
    approved_end: dt.date | None
    approved_days: int
    reasons: str
    decided_by: str
    decided_by_role: str
    decided_at: dt.datetime
    appeal_deadline: dt.date
    on_appeal: bool
    letter_url: str = Field(description="The decision letter as PDF")


class AppealOut(Schema):
    id: int
    text: str
    created_at: dt.datetime
    outcome: str
    note: str
    late: bool = Field(description="Sent after the appeal deadline (forvaltningslova § 31)")
    sent_on_at: dt.datetime | None = Field(
        description="When the decider sent the case of an upheld appeal to the appeal body"
    )
    case_url: str | None = Field(description="The case of an upheld appeal as PDF")


class ApplicationOut(Schema):
    id: int
    pupil_id: int
    category: str
    reason: str
    learning_plan: str
    start_date: dt.date
    end_date: dt.date
    school_days: int
    late: bool
    over_limit: bool
    status: str
    decider_role: str
    applicant: str | None
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    consents: list[ConsentOut]
    decisions: list[DecisionOut]
    appeal: AppealOut | None


# --- helpers --------------------------------------------------------------------------


def _consent_out(consent: Consent) -> ConsentOut:
    return ConsentOut(
        guardian_id=consent.guardian_id,
        guardian=consent.guardian.get_full_name(),
        status=consent.status,
        note=consent.note,
        answered_at=consent.answered_at,
    )


def _decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        id=decision.pk,
        outcome=decision.outcome,
        approved_start=decision.approved_start,
        approved_end=decision.approved_end,
        approved_days=decision.approved_days,
        reasons=decision.reasons,
        decided_by=decision.decided_by_name,
        decided_by_role=decision.decided_by_role,
        decided_at=decision.decided_at,
        appeal_deadline=decision.appeal_deadline,
        on_appeal=decision.on_appeal,
        letter_url=reverse("leave_letter", args=[decision.pk]),
    )


def _appeal_out(appeal: Appeal | None) -> AppealOut | None:
    if appeal is None:
        return None
    return AppealOut(
        id=appeal.pk,
        text=appeal.text,
        created_at=appeal.created_at,
        outcome=appeal.outcome,
        note=appeal.note,
        late=appeal.late,
        sent_on_at=appeal.sent_on_at,
        case_url=reverse("leave_case_pdf", args=[appeal.pk])
        if appeal.outcome == Appeal.Outcome.UPHELD
        else None,
    )


APPEALED = (
    LeaveApplication.Status.APPEAL_PENDING,
    LeaveApplication.Status.RECONSIDERED,
    LeaveApplication.Status.SENT_TO_STATSFORVALTER,
)


def _out(application: LeaveApplication) -> ApplicationOut:
    return ApplicationOut(
        id=application.pk,
        pupil_id=application.pupil_id,
        category=application.category,
        reason=application.reason,
        learning_plan=application.learning_plan,
        start_date=application.start_date,
        end_date=application.end_date,
        school_days=application.school_days,
        late=application.late,
        over_limit=application.over_limit,
        status=application.status,
        decider_role=application.decider_role,
        applicant=application.applicant.get_full_name() if application.applicant else None,
        created_at=application.created_at,
        submitted_at=application.submitted_at,
        consents=[_consent_out(c) for c in application.consents.all()],
        decisions=[_decision_out(d) for d in application.decisions.all()],
        # Only an application in one of these states has an appeal (no read for others).
        appeal=_appeal_out(getattr(application, "appeal", None))
        if application.status in APPEALED
        else None,
    )


def _written(application: LeaveApplication) -> ApplicationOut:
    """The answer to a write: the application as the service left it (the service checked
    that the caller sees it)."""
    return _out(selectors.as_written(application))


# --- guardians ------------------------------------------------------------------------


@router.post(
    "/applications", response={201: ApplicationOut, **ERRORS}, throttle=throttles("leave.apply")
)
@scoped
def leave_application_create(
    request: HttpRequest,
    payload: ApplicationIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="A retried request with the same key returns the first application",
    ),
) -> Any:
    """Apply for leave for one of the caller's children. ``late`` and ``over_limit`` in the
    answer are warnings: the application is sent all the same."""
    application = services.leave_application_create(
        actor=request.user,
        pupil_id=payload.pupil_id,
        category=payload.category,
        reason=payload.reason,
        learning_plan=payload.learning_plan,
        start_date=payload.start_date,
        end_date=payload.end_date,
        rules_confirmed=payload.rules_confirmed,
        idempotency_key=idempotency_key or None,
    )
    return Status(201, _written(application))


@router.get("/applications", response={200: list[ApplicationOut], **ERRORS})
@scoped
def leave_application_list(request: HttpRequest, pupil_id: int | None = None) -> Any:
    """Applications for the caller's children, by either guardian (one child with
    ``pupil_id``)."""
    pupil = (
        selectors.guardian_child(actor=request.user, pupil_id=pupil_id)
        if pupil_id is not None
        else None
    )
    applications = selectors.guardian_applications(actor=request.user, pupil=pupil)
    return Status(200, [_out(a) for a in applications])


@router.get("/applications/{application_id}", response={200: ApplicationOut, **ERRORS})
@scoped
def leave_application_detail(request: HttpRequest, application_id: int) -> Any:
    """One application, for its guardians and for the staff who see it."""
    found = selectors.any_application(actor=request.user, application_id=application_id)
    return Status(200, _out(found))


@router.post("/applications/{application_id}/consent", response={200: ApplicationOut, **ERRORS})
@scoped
def leave_consent_answer(request: HttpRequest, application_id: int, payload: ConsentIn) -> Any:
    """The other guardian agrees (the application reaches the school when all have) or
    does not (the application stops)."""
    consent = services.leave_consent_answer(
        actor=request.user, application_id=application_id, agree=payload.agree
    )
    return Status(200, _written(consent.application))


@router.post("/applications/{application_id}/withdraw", response={200: ApplicationOut, **ERRORS})
@scoped
def leave_application_withdraw(request: HttpRequest, application_id: int) -> Any:
    """Withdraw an application the school has not decided."""
    application = services.leave_application_withdraw(
        actor=request.user, application_id=application_id
    )
    return Status(200, _written(application))


@router.post("/applications/{application_id}/appeal", response={201: ApplicationOut, **ERRORS})
@scoped
def leave_appeal_create(request: HttpRequest, application_id: int, payload: AppealIn) -> Any:
    """Appeal the decision, within three weeks."""
    appeal = services.leave_appeal_create(
        actor=request.user, application_id=application_id, text=payload.text
    )
    return Status(201, _written(appeal.application))


@router.get("/decisions/{decision_id}/letter", response={200: None, **ERRORS})
@scoped
def leave_decision_letter(request: HttpRequest, decision_id: int) -> Any:
    """The decision letter (PDF)."""
    decision = selectors.decision_letter(actor=request.user, decision_id=decision_id)
    letter = services.decision_letter_make(decision=decision)
    response = HttpResponse(letter, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="vedtak-{decision.pk}.pdf"'
    return response


# --- staff ----------------------------------------------------------------------------


@router.get("/queue", response={200: list[ApplicationOut], **ERRORS})
@scoped
def leave_queue(request: HttpRequest) -> Any:
    """Kontor and leiing: the school's applications; a contact teacher: their pupils'."""
    if not selectors.is_leave_staff(request.user):
        raise Http404
    return Status(200, [_out(a) for a in selectors.staff_applications(actor=request.user)])


@router.post(
    "/applications/{application_id}/recorded-consent", response={200: ApplicationOut, **ERRORS}
)
@scoped
def leave_consent_record(
    request: HttpRequest, application_id: int, payload: RecordedConsentIn
) -> Any:
    """The school records the other guardian's consent given another way."""
    consent = services.leave_consent_record(
        actor=request.user,
        application_id=application_id,
        guardian_id=payload.guardian_id,
        note=payload.note,
    )
    return Status(200, _written(consent.application))


@router.post("/applications/{application_id}/decision", response={201: ApplicationOut, **ERRORS})
@scoped
def leave_decide(request: HttpRequest, application_id: int, payload: DecisionIn) -> Any:
    """Approve, approve in part, or decline, with reasons (an enkeltvedtak with its letter)."""
    decision = services.leave_decide(
        actor=request.user,
        application_id=application_id,
        outcome=payload.outcome,
        reasons=payload.reasons,
        approved_start=payload.approved_start,
        approved_end=payload.approved_end,
    )
    return Status(201, _written(decision.application))


@router.post(
    "/applications/{application_id}/appeal/reconsider",
    response={200: ApplicationOut, **ERRORS},
)
@scoped
def leave_appeal_reconsider(
    request: HttpRequest, application_id: int, payload: ReconsiderIn
) -> Any:
    """Consider the appeal again: a new decision, or the decision stands and the appeal
    goes to the appeal body."""
    appeal = services.leave_appeal_reconsider(
        actor=request.user,
        application_id=application_id,
        change=payload.change,
        note=payload.note,
        outcome=payload.outcome,
        reasons=payload.reasons,
        approved_start=payload.approved_start,
        approved_end=payload.approved_end,
    )
    return Status(200, _written(appeal.application))


@router.post(
    "/applications/{application_id}/appeal/sent-on",
    response={200: ApplicationOut, **ERRORS},
)
@scoped
def leave_appeal_sent_on(request: HttpRequest, application_id: int) -> Any:
    """Record that the case of an upheld appeal is sent to the appeal body; the guardians
    are told. Recording it again changes nothing."""
    appeal = services.leave_appeal_sent_on(actor=request.user, application_id=application_id)
    return Status(200, _written(appeal.application))
