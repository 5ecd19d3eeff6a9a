"""What kontaktbok holds about each child the person may see as guardian: with parental
responsibility, and never a child with a protected address kept from them
(``access.guardian_pupils``). Each part is read through the feature's own scoped reads
where it has them, as the guardian's pages read it."""

from typing import Any

from django.db.models import Prefetch
from django.utils import translation

from kontaktbok.absence.lookup import selectors as lookup_selectors
from kontaktbok.absence.models import AbsenceReport, AttendanceMark, LeaveExplanation
from kontaktbok.accounts.models import User
from kontaktbok.leave import selectors as leave_selectors
from kontaktbok.leave import services as leave_services
from kontaktbok.leave.models import Appeal, LeaveApplication
from kontaktbok.privacy.collect.common import Files, clock_time, day, when
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Group, Guardianship, Pupil


def _name(user: Any) -> str | None:
    return user.get_full_name() if user is not None else None


def children(person: User, files: Files, language: str) -> list[dict[str, Any]]:
    pupils = list(
        access.guardian_pupils(person)
        .select_related("school")
        .prefetch_related(
            Prefetch("groups", queryset=Group.objects.select_related("school_year").order_by("pk"))
        )
        .order_by("last_name", "first_name", "pk")
    )
    own = {g.pupil_id: g for g in Guardianship.objects.filter(guardian=person, pupil__in=pupils)}
    with translation.override(language):
        return [_child(person, pupil, own[pupil.pk], files) for pupil in pupils]


def _child(person: User, pupil: Pupil, guardianship: Guardianship, files: Files) -> dict[str, Any]:
    return {
        "id": pupil.pk,
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "date_of_birth": day(pupil.date_of_birth),
        "school": pupil.school.name,
        "protected_address": pupil.protected_address,
        "left_school_on": day(pupil.left_on),
        "groups": [
            {
                "name": g.name,
                "kind": g.kind,
                "grade": g.grade,
                "school_year": g.school_year.name,
            }
            for g in pupil.groups.all()
        ],
        "guardianship": {
            "parental_responsibility": guardianship.parental_responsibility,
            "lives_with_pupil": guardianship.lives_with_pupil,
            "may_receive_information": guardianship.may_receive_information,
            "last_day": day(guardianship.ends_on),
        },
        "absence_reports": _reports(person, pupil),
        "attendance_marks": _marks(pupil),
        "leave_days": [
            {"from": day(d.start_date), "to": day(d.end_date), "recorded_at": when(d.created_at)}
            for d in LeaveExplanation.objects.filter(pupil=pupil).order_by("start_date", "pk")
        ],
        "lookup_cases": _lookup_cases(person, pupil),
        "leave_applications": _leave(person, pupil, files),
        "access_log": _access_log(person, pupil),
    }


def _reports(person: User, pupil: Pupil) -> list[dict[str, Any]]:
    reports = (
        AbsenceReport.objects.filter(pupil=pupil)
        .select_related("absence_type", "reported_by")
        .order_by("start_date", "pk")
    )
    return [
        {
            "id": r.pk,
            "type": r.absence_type.code,
            "type_name": r.absence_type.name,
            "from": day(r.start_date),
            "to": day(r.end_date),
            "whole_day": r.whole_day,
            "from_time": clock_time(r.start_time),
            "to_time": clock_time(r.end_time),
            "comment": r.comment,
            "late": r.late,
            "status": r.status,
            "reported_by": _name(r.reported_by),
            "reported_by_self": r.reported_by_id == person.pk,
            "reported_at": when(r.created_at),
            "changed_at": when(r.updated_at),
        }
        for r in reports
    ]


def _marks(pupil: Pupil) -> list[dict[str, Any]]:
    marks = (
        AttendanceMark.objects.filter(pupil=pupil)
        .select_related("group")
        .order_by("date", "lesson", "pk")
    )
    return [
        {
            "date": day(m.date),
            "lesson": m.lesson,
            "group": m.group.name,
            "status": m.status,
            "minutes_late": m.late_minutes,
            "explained_by_staff": m.staff_reason,
            "registered_at": when(m.registered_at),
        }
        for m in marks
    ]


def _lookup_cases(person: User, pupil: Pupil) -> list[dict[str, Any]]:
    cases = (
        lookup_selectors.guardian_cases(person)
        .filter(pupil=pupil)
        .select_related("group", "registered_by", "answered_by", "closed_by")
        .order_by("date", "pk")
    )
    rows = []
    for case in cases:
        events = lookup_selectors.timeline(actor=person, case=case, as_guardian=True)
        rows.append(
            {
                "date": day(case.date),
                "status": case.status,
                "class": case.group.name if case.group else None,
                "registered_absent_at": when(case.registered_at),
                "registered_by": _name(case.registered_by),
                "opened_at": when(case.opened_at),
                "escalation_due_at": when(case.escalate_at),
                "escalated_at": when(case.escalated_at),
                "answer": case.answer,
                "answer_text": case.answer_text,
                "answered_by": _name(case.answered_by),
                "answered_at": when(case.answered_at),
                "outcome": case.outcome,
                "outcome_text": case.outcome_text,
                "closed_by": _name(case.closed_by),
                "closed_at": when(case.closed_at),
                "timeline": [
                    {
                        "at": when(e.at),
                        "event": e.kind,
                        "by": e.actor,
                        "channel": e.channel,
                        "status": e.status,
                        "detail": e.detail,
                    }
                    for e in events
                ],
            }
        )
    return rows


def _leave(person: User, pupil: Pupil, files: Files) -> list[dict[str, Any]]:
    """The applications for the child (by either guardian), with consents, decisions and
    their letters, and any appeal with the case sent to the appeal body."""
    applications = leave_selectors.guardian_applications(actor=person, pupil=pupil).order_by(
        "start_date", "pk"
    )
    return [_application(person, a, files) for a in applications]


def _application(person: User, application: LeaveApplication, files: Files) -> dict[str, Any]:
    appeal = getattr(application, "appeal", None)
    return {
        "id": application.pk,
        "reason_kind": application.category,
        "reason": application.reason,
        "learning_plan": application.learning_plan,
        "first_day": day(application.start_date),
        "last_day": day(application.end_date),
        "school_days": application.school_days,
        "late": application.late,
        "over_yearly_limit": application.over_limit,
        "days_before": application.days_before,
        "rules_confirmed": application.rules_confirmed,
        "rules_shown": application.rules_text,
        "status": application.status,
        "decided_by_role": application.decider_role,
        "applicant": _name(application.applicant),
        "applied_by_self": application.applicant_id == person.pk,
        "applied_at": when(application.created_at),
        "reached_school_at": when(application.submitted_at),
        "changed_at": when(application.updated_at),
        "consents": [
            {
                "guardian": _name(c.guardian),
                "self": c.guardian_id == person.pk,
                "answer": c.status,
                "note": c.note,
                "answered_at": when(c.answered_at),
                "recorded_by_school": c.recorded_by_id is not None
                and c.recorded_by_id != c.guardian_id,
            }
            for c in application.consents.all()
        ],
        "decisions": [_decision(person, d, files) for d in application.decisions.all()],
        "appeal": _appeal(person, appeal, files) if appeal is not None else None,
    }


def _decision(person: User, decision: Any, files: Files) -> dict[str, Any]:
    # The letter as the guardian opens it: their read is checked and audited there.
    found = leave_selectors.decision_letter(actor=person, decision_id=decision.pk)
    letter = leave_services.decision_letter_make(decision=found)
    path = files.add(f"letters/decision-{decision.application_id}-{decision.pk}.pdf", letter)
    return {
        "outcome": decision.outcome,
        "approved_from": day(decision.approved_start),
        "approved_to": day(decision.approved_end),
        "approved_school_days": decision.approved_days,
        "reasons": decision.reasons,
        "caseworker": decision.decided_by_name,
        "caseworker_role": decision.decided_by_role,
        "decided_at": when(decision.decided_at),
        "appeal_by": day(found.appeal_deadline),
        "made_on_appeal": decision.on_appeal,
        "letter": path,
    }


def _appeal(person: User, appeal: Appeal, files: Files) -> dict[str, Any]:
    case_file = None
    if appeal.outcome == Appeal.Outcome.UPHELD:
        found = leave_selectors.appeal_case(actor=person, appeal_id=appeal.pk)
        case_file = files.add(
            f"letters/appeal-case-{appeal.application_id}.pdf",
            leave_services.appeal_case_make(appeal=found),
        )
    return {
        "appealed_by": _name(appeal.guardian),
        "appealed_by_self": appeal.guardian_id == person.pk,
        "text": appeal.text,
        "appealed_at": when(appeal.created_at),
        "late": appeal.late,
        "outcome": appeal.outcome,
        "reconsidered_at": when(appeal.reconsidered_at),
        "school_assessment": appeal.note,
        "sent_to_appeal_body_at": when(appeal.sent_on_at),
        "case": case_file,
    }


def _access_log(person: User, pupil: Pupil) -> list[dict[str, Any]]:
    """Who has seen the child's data and when, as the guardian's page shows it (staff
    named when the municipality shows names), every page of it."""
    rows: list[dict[str, Any]] = []
    page_number = 1
    while True:
        _pupil, page, reads = school_selectors.pupil_reads(
            actor=person, pupil_id=pupil.pk, page=page_number
        )
        rows += [
            {"at": when(r.at), "who": r.who, "role": r.role, "school": r.school, "what": r.what}
            for r in reads
        ]
        if not page.has_next():
            return rows
        page_number += 1
