"""What a worker does after a leave write, queued in the write's own transaction
(``leave.tasks``): telling people, recording the leave days in the absence part, and making
the decision letter and the appeal case. Each may run twice without harm: a notification
goes out once per person and dedup key, a letter is made once, leave days are set to what
the decision in force gives."""

import datetime as dt
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from kontaktbok.absence import services as absence_services
from kontaktbok.core import clock
from kontaktbok.leave import kinds, selectors
from kontaktbok.leave.models import Appeal, Decision, LeaveApplication
from kontaktbok.leave.services.common import (
    Outcome,
    appeal_of,
    guardian_url,
    payload,
    staff_url,
)
from kontaktbok.leave.services.letters import (
    appeal_case_render,
    appeal_case_store,
    decision_letter_render,
    decision_letter_store,
)
from kontaktbok.notifications.kinds import Kind
from kontaktbok.notifications.services import Outgoing, notify_many

log = logging.getLogger(__name__)


def _application(application_id: int) -> LeaveApplication:
    return LeaveApplication.objects.select_related("pupil", "applicant").get(pk=application_id)


def _tell(
    application: LeaveApplication, kind: Kind, dedup_key: str, recipients: list[Any], url: str
) -> None:
    items = [Outgoing(user, dedup_key, payload(application), url) for user in recipients]
    notify_many(kind=kind.code, items=items, school_id=application.school_id)


def ask_for_consent(*, application_id: int, guardian_ids: list[int]) -> None:
    """Ask the other guardians (those who may be told) to agree to the application."""
    application = _application(application_id)
    guardians = get_user_model().objects.filter(pk__in=guardian_ids).order_by("pk")
    _tell(
        application,
        kinds.CONSENT_REQUESTED,
        f"leave.consent:{application.pk}",
        list(guardians),
        guardian_url(application),
    )


def tell_deciders(*, application_id: int) -> None:
    """An application has reached the school: tell who decides it."""
    application = _application(application_id)
    _tell(
        application,
        kinds.SUBMITTED,
        f"leave.submitted:{application.pk}",
        selectors.deciders(application),
        staff_url(application),
    )


def tell_consent_declined(*, application_id: int) -> None:
    """The other guardian did not agree: tell the applicant the application stops."""
    application = _application(application_id)
    if application.applicant is None:
        return
    _tell(
        application,
        kinds.CONSENT_DECLINED,
        f"leave.consent_declined:{application.pk}",
        [application.applicant],
        guardian_url(application),
    )


def tell_appeal_received(*, appeal_id: int) -> None:
    """A guardian has appealed: tell who reconsiders it."""
    appeal = Appeal.objects.select_related("application__pupil", "application__applicant").get(
        pk=appeal_id
    )
    application = appeal.application
    _tell(
        application,
        kinds.APPEAL_RECEIVED,
        f"leave.appeal:{appeal.pk}",
        selectors.deciders(application),
        staff_url(application),
    )


def _record_leave_days(application: LeaveApplication) -> None:
    """The decision in force gives leave days, which then explain absence; a decision
    changed to a decline takes them back (``absence.services``)."""
    decision = application.decisions.defer("letter").select_related("decided_by").last()
    if decision is None:
        return
    reference = f"leave:{application.pk}"
    if decision.approved_start is not None and decision.approved_end is not None:
        absence_services.leave_days_record(
            actor=decision.decided_by,
            pupil=application.pupil,
            start_date=decision.approved_start,
            end_date=decision.approved_end,
            reference=reference,
        )
    elif decision.outcome == Outcome.DECLINED:
        absence_services.leave_days_remove(actor=decision.decided_by, reference=reference)


def decision_finish(*, decision_id: int) -> None:
    """After a decision: its leave days explain absence, its letter is made and stored,
    and then the guardians who may be told are told (the outcome of their appeal, for a
    decision made on appeal), so the letter is there when they look."""
    decision = (
        selectors.with_pupil_class(Decision.objects.all())
        .select_related(*selectors.FOR_A_LETTER, "decided_by", "application__appeal")
        .defer("application__appeal__case_pdf")
        .get(pk=decision_id)
    )
    application = decision.application
    application.pupil.school = application.school
    with transaction.atomic():
        _record_leave_days(application)
    # Rendered before the transaction (no writer waits for WeasyPrint); stored with the
    # telling, so a letter is never there without the guardians being told.
    letter = decision_letter_render(decision)
    with transaction.atomic():
        decision_letter_store(decision, letter)
        appeal = appeal_of(application)
        guardians = selectors.guardians_to_inform(application.pupil)
        url = guardian_url(application)
        if decision.on_appeal and appeal is not None:
            key = f"leave.appeal_outcome:{appeal.pk}"
            _tell(application, kinds.APPEAL_OUTCOME, key, guardians, url)
        else:
            _tell(application, kinds.DECIDED, f"leave.decided:{decision.pk}", guardians, url)


def appeal_finish(*, appeal_id: int) -> None:
    """After an appeal was upheld: the case for the appeal body is made and stored; the
    guardians are told (their copy of the case is on the application's page), and the
    decider is given the task of sending it on."""
    appeal = Appeal.objects.select_related(
        *selectors.FOR_A_LETTER, "guardian", "reconsidered_by"
    ).get(pk=appeal_id)
    application = appeal.application
    case = appeal_case_render(appeal)  # before the transaction, as the decision's letter
    with transaction.atomic():
        appeal_case_store(appeal, case)
        _tell(
            application,
            kinds.APPEAL_OUTCOME,
            f"leave.appeal_outcome:{appeal.pk}",
            selectors.guardians_to_inform(application.pupil),
            guardian_url(application),
        )
        if appeal.reconsidered_by is not None and appeal.sent_on_at is None:
            _tell(
                application,
                kinds.APPEAL_TO_SEND,
                f"leave.appeal_to_send:{appeal.pk}",
                [appeal.reconsidered_by],
                staff_url(application),
            )


def tell_appeal_sent_on(*, appeal_id: int) -> None:
    """The decider has sent the case to the appeal body: tell the guardians."""
    appeal = Appeal.objects.select_related("application__pupil", "application__applicant").get(
        pk=appeal_id
    )
    application = appeal.application
    _tell(
        application,
        kinds.APPEAL_SENT_ON,
        f"leave.appeal_sent_on:{appeal.pk}",
        selectors.guardians_to_inform(application.pupil),
        guardian_url(application),
    )


def finish_unfinished(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """The safety net for a worker that failed: decisions whose letter was never made and
    upheld appeals whose case was never made are finished now; returns how many."""
    before = clock.now() - older_than
    decisions = Decision.objects.filter(letter=b"", decided_at__lt=before).values_list(
        "pk", flat=True
    )
    appeals = Appeal.objects.filter(
        outcome=Appeal.Outcome.UPHELD, case_pdf__isnull=True, reconsidered_at__lt=before
    ).values_list("pk", flat=True)
    done = 0
    for decision_id in decisions:
        try:
            decision_finish(decision_id=decision_id)
        except Exception:
            log.exception("leave decision %s could not be finished", decision_id)
        else:
            done += 1
    for appeal_id in appeals:
        try:
            appeal_finish(appeal_id=appeal_id)
        except Exception:
            log.exception("leave appeal %s could not be finished", appeal_id)
        else:
            done += 1
    return done
