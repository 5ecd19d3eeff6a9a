"""The decision letter (enkeltvedtak) and the case sent to the appeal body, as PDF.

Each is made once and stored, so it never changes afterwards: by the worker that follows
up the decision or the upheld appeal, or, if someone opens it before the worker has run,
then and there."""

import datetime as dt
from typing import Any

from django.utils import translation

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.core import clock
from kontaktbok.leave import pdf, rules, selectors
from kontaktbok.leave.models import APPEAL_DAYS, Appeal, Decision, LeaveApplication
from kontaktbok.leave.services.common import Role
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import StaffMember


def role_label(title: str, role: str) -> str:
    """How the caseworker is named in a letter: their title, else their role."""
    if title:
        return title
    return str(Role(role).label).capitalize() if role else ""


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.SCHOOL_TZ).date()


def _caseworker_contact(decision: Decision, school: Any) -> dict[str, str]:
    """How the guardians reach the caseworker: the work phone and e-mail the school keeps
    for them (never a private number)."""
    if decision.decided_by_id is None:
        return {"phone": "", "email": ""}
    found = (
        StaffMember.objects.filter(user_id=decision.decided_by_id, school=school)
        .values("work_phone", "user__email")
        .first()
    )
    if found is None:
        return {"phone": "", "email": ""}
    return {"phone": found["work_phone"], "email": found["user__email"] or ""}


def letter_context(application: LeaveApplication, decision: Decision) -> dict[str, Any]:
    """What the letter says. The facts include the pupil's absence this school year, read
    for the letter with no reader yet: each person who opens it is audited
    (``selectors.decision_letter``)."""
    school = application.school
    pupil = application.pupil
    pupil.school = school  # one object: its calendar is read once
    leave_rules = selectors.rules_for(school)
    year = school_selectors.current_school_year(school, application.start_date)
    history = absence_selectors.history_for_a_document(
        pupil, school_selectors.current_school_year(school)
    )
    if "pupil_class" in decision.__dict__:  # read with the decision
        group_name = decision.__dict__["pupil_class"] or ""
    else:
        group = pupil.groups.filter(access.current_year_q(), kind="class").order_by("pk").first()
        group_name = group.name if group else ""
    return {
        "application": application,
        "decision": decision,
        "caseworker": _caseworker_contact(decision, school),
        "pupil": pupil,
        "school": school,
        "group_name": group_name,
        "guardians": [g.guardian for g in selectors.responsible_guardians(pupil)],
        "consents": list(application.consents.select_related("guardian")),
        "leave_rules": leave_rules,
        "days_used": selectors.days_used(pupil, year, leave_rules, exclude=application),
        "absent_days": history.absent_days,
        "school_days_so_far": history.school_days,
        "letter_date": _local_date(decision.decided_at),
        "available_on": decision.appeal_deadline - dt.timedelta(days=APPEAL_DAYS),
        "religious_right": application.category == LeaveApplication.Category.RELIGIOUS
        and leave_rules.religious_holidays_right,
    }


def decision_letter_render(decision: Decision) -> bytes:
    """The decision's letter as PDF: the stored one, else rendered now. Call it outside a
    transaction: rendering takes a while, and no writer should wait for it."""
    if decision.letter:
        return bytes(decision.letter)
    # The guardians can read the letter from the day it is made and stored: the three
    # weeks to appeal count from then (forvaltningslova § 30), not from the decision.
    decision.appeal_deadline = clock.today() + dt.timedelta(days=APPEAL_DAYS)
    application = decision.application
    return pdf.render_pdf(
        "leave/decision_letter.html",
        letter_context(application, decision),
        language=application.school.language or "nn",
    )


def decision_letter_store(decision: Decision, content: bytes) -> bytes:
    """Store the rendered letter and the appeal deadline it gives unless a letter is stored
    already (two made it at once: the first one stored is the letter); returns the letter."""
    stored = Decision.objects.filter(pk=decision.pk, letter=b"").update(
        letter=content, appeal_deadline=decision.appeal_deadline
    )
    if not stored:
        letter, deadline = Decision.objects.values_list("letter", "appeal_deadline").get(
            pk=decision.pk
        )
        content, decision.appeal_deadline = bytes(letter), deadline
    decision.letter = content
    return content


def decision_letter_make(*, decision: Decision) -> bytes:
    """The decision's letter, made and stored the first time it is asked for. ``decision``
    comes with its application, pupil, school and caseworker (``selectors.FOR_A_LETTER``)."""
    if decision.letter:
        return bytes(decision.letter)
    return decision_letter_store(decision, decision_letter_render(decision))


def _case_context(appeal: Appeal) -> dict[str, Any]:
    application = appeal.application
    school = application.school
    actor = appeal.reconsidered_by
    with_title = role_label(
        selectors.staff_title(actor, school), rules.role_for(actor, application)
    )
    return {
        "application": application,
        "appeal": appeal,
        "pupil": application.pupil,
        "school": school,
        "guardians": [g.guardian for g in selectors.responsible_guardians(application.pupil)],
        "consents": list(application.consents.select_related("guardian")),
        "decisions": list(application.decisions.defer("letter")),
        "leave_rules": selectors.rules_for(school),
        "dated": _local_date(appeal.reconsidered_at or clock.now()),
        "reconsidered_by": actor.get_full_name() if actor else "",
        "reconsidered_role": with_title,
    }


def appeal_case_render(appeal: Appeal) -> bytes:
    """The case sent to the appeal body with an upheld appeal (application, consent,
    decisions, appeal, the school's assessment): the stored one, else rendered now, outside
    any transaction. ``appeal`` comes with its application, pupil, school and people."""
    if appeal.case_pdf:
        return bytes(appeal.case_pdf)
    if appeal.outcome != Appeal.Outcome.UPHELD:
        raise ValueError("only an upheld appeal is sent on with the case")
    language = appeal.application.school.language or "nn"
    with translation.override(language):
        context = _case_context(appeal)
    return pdf.render_pdf("leave/appeal_case.html", context, language=language)


def appeal_case_store(appeal: Appeal, content: bytes) -> bytes:
    """Store the rendered case unless one is stored already; returns the case."""
    if not Appeal.objects.filter(pk=appeal.pk, case_pdf__isnull=True).update(case_pdf=content):
        stored = Appeal.objects.values_list("case_pdf", flat=True).get(pk=appeal.pk)
        content = bytes(stored or b"")
    appeal.case_pdf = content
    return content


def appeal_case_make(*, appeal: Appeal) -> bytes:
    """The case, made and stored the first time it is asked for."""
    if appeal.case_pdf:
        return bytes(appeal.case_pdf)
    return appeal_case_store(appeal, appeal_case_render(appeal))
