"""Every write about looking for a missing pupil (etterlysing).

A pupil registered absent with no report and no leave is looked for at the school's time
for the pupil's grade band. The guardians are alerted at once on every channel; if nobody
has accounted for the pupil when the school's window has passed, the guardians are told to
consider the police and kontor and leiing are alerted. Registering the pupil present or
late closes the case.

Exactly once, however many workers and scheduler ticks run: one case per pupil and day (a
unique constraint), one notification per recipient and step (the outbox's dedup key), and
the escalation is taken by one conditional UPDATE.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from kontaktbok.absence import kinds
from kontaktbok.absence.lookup import selectors
from kontaktbok.absence.models import AttendanceMark, LookupCase
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.notifications.kinds import Kind
from kontaktbok.notifications.services import Outgoing, notify, notify_many
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Group, Pupil, StaffRole

Role = StaffRole.Role
Status = LookupCase.Status
Answer = LookupCase.Answer
Outcome = LookupCase.Outcome
ANSWER_TEXT_MAX = 300


# --- notifying ------------------------------------------------------------------------


def _payload(case: LookupCase) -> dict[str, Any]:
    return {
        "child": case.pupil.first_name,
        "school": case.school.name,
        "phone": case.school.phone or "–",
        "group": case.group.name if case.group else "",
    }


def _tell_guardians(case: LookupCase, kind: Kind, step: str) -> None:
    _tell(case, kind, step, school_selectors.guardians_to_inform(case.pupil), {})


def _tell_staff(
    case: LookupCase, kind: Kind, step: str, roles: list[str], extra: dict[str, Any]
) -> None:
    group_ids = [case.group_id] if case.group_id else []
    _tell(case, kind, step, school_selectors.staff_holding(case.school_id, roles, group_ids), extra)


def _tell(
    case: LookupCase, kind: Kind, step: str, recipients: list[Any], extra: dict[str, Any]
) -> None:
    payload = _payload(case) | extra
    url = reverse("lookup_case", args=[case.pk])
    notify_many(
        kind=kind.code,
        items=[Outgoing(user, f"lookup:{case.pk}:{step}", payload, url) for user in recipients],
        school_id=case.school_id,
    )


# --- opening --------------------------------------------------------------------------


def _open_one(missing: selectors.Missing, now: dt.datetime) -> LookupCase | None:
    pupil, mark = missing.pupil, missing.mark
    school = pupil.school
    try:
        with transaction.atomic():
            case = LookupCase.objects.create(
                pupil=pupil,
                school=school,
                group=missing.group,
                date=now.date(),
                registered_by_id=mark.registered_by_id,
                registered_at=mark.registered_at,
                opened_at=now,
                escalate_at=now + dt.timedelta(minutes=school.escalation_minutes),
            )
            audit_log(
                actor=None,
                action="absence.lookup.opened",
                obj=case,
                school_id=school.pk,
                detail={"group": missing.group.name, "grade": missing.group.grade},
            )
            _tell_guardians(case, kinds.LOOKUP_ALERT, "alert")
    except IntegrityError:
        return None  # another worker or tick opened it first
    return case


def open_due_cases(*, now: dt.datetime | None = None, pupil_ids: list[int] | None = None) -> int:
    """Open a case for each pupil who is missing now and whose grade band's lookup time
    has come; returns how many were opened. Safe to call from any number of processes."""
    now = (now or clock.now()).astimezone(clock.SCHOOL_TZ)
    opened = 0
    for missing in selectors.missing_pupils(day=now.date(), pupil_ids=pupil_ids):
        if now.time() >= selectors.lookup_time(missing.pupil.school, missing.group.grade):
            opened += _open_one(missing, now) is not None
    return opened


def after_registration(*, group: Group, date: dt.date, marks: list[AttendanceMark]) -> None:
    """Called in the registration's transaction. The looking-for itself (opening cases,
    alerting the guardians, closing the cases of those who arrived) is handed to a worker
    in the same transaction: it is queued if and only if the registration is saved, and the
    teacher's save costs the same whatever the number of cases. The minute's tick does the
    same work, so nothing depends on this hand-over alone."""
    if date != clock.today():
        return
    absent = [m.pupil_id for m in marks if m.status == AttendanceMark.Status.ABSENT]
    arrived = [m.pupil_id for m in marks if m.status != AttendanceMark.Status.ABSENT]
    if arrived and not selectors.has_open_case(arrived, date):
        arrived = []
    if absent or arrived:
        _tasks().look_up_registered.enqueue(day=date.isoformat(), absent=absent, arrived=arrived)


def _tasks() -> Any:
    # The tasks module imports this one; importing it at call time keeps the two apart.
    from kontaktbok.absence import tasks

    return tasks


def close_arrived(*, day: dt.date, pupil_ids: list[int] | None = None) -> int:
    """Close today's open cases of pupils whose latest registration shows them present or
    late, and tell the guardians the child has arrived; returns how many were closed."""
    closed = 0
    for case, mark in selectors.arrived_cases(day=day, pupil_ids=pupil_ids):
        if _close(case, actor=mark.registered_by, outcome=LookupCase.Outcome.ARRIVED, text=""):
            _tell_guardians(case, kinds.LOOKUP_ARRIVED, "arrived")
            closed += 1
    return closed


# --- escalation -----------------------------------------------------------------------


def escalate_due(*, now: dt.datetime | None = None) -> int:
    """Escalate today's unanswered cases whose window has passed. A scheduler that was down
    catches up on its next tick; the conditional UPDATE makes each escalation happen once."""
    now = now or clock.now()
    escalated = 0
    for case in selectors.due_for_escalation(now):
        with transaction.atomic():
            taken = LookupCase.objects.filter(pk=case.pk, status=Status.OPEN).update(
                status=Status.ESCALATED, escalated_at=now
            )
            if not taken:
                continue
            audit_log(
                actor=None,
                action="absence.lookup.escalated",
                obj=case,
                school_id=case.school_id,
                detail={"minutes": case.school.escalation_minutes},
            )
            _tell_guardians(case, kinds.LOOKUP_ESCALATION, "escalation")
            _tell_staff(
                case,
                kinds.LOOKUP_STAFF_ESCALATION,
                "escalation",
                [Role.CONTACT_TEACHER, Role.LEADERSHIP, Role.OFFICE],
                {"minutes": case.school.escalation_minutes},
            )
            escalated += 1
    return escalated


def alert_missing_registrations(*, now: dt.datetime | None = None) -> int:
    """After the first lesson, tell the contact teachers of each class with no attendance
    registered today, and kontor once per school with the list of those classes, so a
    missing registration cannot hide a missing child. Returns how many classes were newly
    alerted to someone: each class, and each school's kontor, is alerted once a day."""
    now = (now or clock.now()).astimezone(clock.SCHOOL_TZ)
    day = now.date().isoformat()
    groups = selectors.unregistered_classes(now)
    class_key = {group.pk: f"registration-missing:{group.pk}:{day}" for group in groups}
    school_key = {g.school_id: f"registration-missing:school:{g.school_id}:{day}" for g in groups}
    done = selectors.notified_keys([*class_key.values(), *school_key.values()])
    by_school: dict[int, list[Group]] = {}
    alerted: set[int] = set()
    for group in groups:
        if class_key[group.pk] in done or school_key[group.school_id] in done:
            continue
        by_school.setdefault(group.school_id, []).append(group)
        teachers = school_selectors.staff_holding(
            group.school_id, [Role.CONTACT_TEACHER], [group.pk]
        )
        for user in teachers:
            alerted.add(group.pk)
            notify(
                recipient=user,
                kind=kinds.REGISTRATION_MISSING.code,
                dedup_key=class_key[group.pk],
                payload={"group": group.name},
                url=reverse("attendance_register", args=[group.pk]),
                school_id=group.school_id,
            )
    for school_id, missing in by_school.items():
        for user in school_selectors.staff_holding(school_id, [Role.OFFICE]):
            alerted.update(group.pk for group in missing)
            notify(
                recipient=user,
                kind=kinds.REGISTRATION_MISSING_OFFICE.code,
                dedup_key=school_key[school_id],
                payload={"groups": ", ".join(g.name for g in missing), "count": len(missing)},
                url=reverse("school_check_status", args=[school_id]),
                school_id=school_id,
            )
    return len(alerted)


# --- answers and closing --------------------------------------------------------------


def _close(case: LookupCase, *, actor: Any, outcome: str, text: str, role: str = "") -> bool:
    """Close the case unless it is closed already (one conditional UPDATE, so two arrivals
    saved at the same moment close it, and log it, once); returns whether it did."""
    now = clock.now()
    closed = (
        LookupCase.objects.filter(pk=case.pk)
        .exclude(status=Status.CLOSED)
        .update(
            status=Status.CLOSED,
            outcome=outcome,
            outcome_text=text,
            closed_by=actor,
            closed_at=now,
        )
    )
    if not closed:
        return False
    case.status, case.outcome, case.outcome_text = Status.CLOSED, outcome, text
    case.closed_by, case.closed_at = actor, now
    audit_log(
        actor=actor,
        action="absence.lookup.closed",
        obj=case,
        role=role,
        school_id=case.school_id,
        detail={"outcome": outcome},
    )
    return True


def _answer_label(answer: str, text: str, language: str) -> str:
    with override(language):
        label = str(LookupCase.Answer(answer).label)
    return f"{label}: {text}" if text else label


def lookup_answer(*, actor: Any, case_id: int, answer: str, text: str = "") -> LookupCase:
    """A guardian accounts for the child with one tap. "At home sick" becomes a reported
    absence (type sick, not late: the school asked) and closes the case as "at home sick";
    the other answers stop the escalation and
    stay open until the pupil arrives or staff close the case. A second tap changes
    nothing. The contact teacher and kontor are told by a worker, queued in the same
    transaction."""
    text = text.strip()
    now = clock.now()
    with transaction.atomic():
        case = selectors.guardian_case(actor=actor, case_id=case_id, lock=True)
        if answer not in {Answer.HOME_SICK, Answer.ON_THE_WAY, Answer.FOUND}:
            raise ValidationError({"answer": _("Choose one of the answers.")})
        if answer == Answer.FOUND and not text:
            raise ValidationError({"text": _("Write in a few words where your child is.")})
        if len(text) > ANSWER_TEXT_MAX:
            raise ValidationError({"text": _("Keep the answer to 300 characters.")})
        if case.answer:
            return case  # answered already (a double tap, or the other guardian)
        if not case.is_open:
            raise ValidationError(_("This case is closed."), code="closed")
        case.answer, case.answer_text = answer, text
        case.answered_by, case.answered_at = actor, now
        case.status = Status.ANSWERED
        fields = ["answer", "answer_text", "answered_by", "answered_at", "status"]
        entry = {"actor": actor, "obj": case, "role": "guardian", "school_id": case.school_id}
        entries = [entry | {"action": "absence.lookup.answered", "detail": {"answer": answer}}]
        if answer == Answer.HOME_SICK:
            _report_sick(actor, case)
            case.status, case.outcome, case.closed_by, case.closed_at = (
                Status.CLOSED,
                Outcome.HOME_SICK,
                actor,
                now,
            )
            fields += ["outcome", "closed_by", "closed_at"]
            closing = {
                "action": "absence.lookup.closed",
                "detail": {"outcome": Outcome.HOME_SICK},
            }
            entries.append(entry | closing)
        case.save(update_fields=fields)
        audit_log_many(*entries)
        _tasks().tell_staff_answered.enqueue(case_id=case.pk)
    return case


def _report_sick(actor: Any, case: LookupCase) -> None:
    # absence.services calls this module when a report or registration arrives; importing
    # it here, at call time, keeps the two modules from importing each other at load.
    from kontaktbok.absence.selectors import absence_type_by_code
    from kontaktbok.absence.services import absence_report_for_lookup

    sick = absence_type_by_code(case.school_id, "sick")
    if sick is not None:  # a school without the type: the answer alone explains the day
        absence_report_for_lookup(actor=actor, case=case, absence_type=sick)


def tell_staff_answered(*, case_id: int) -> None:
    """Tell the contact teacher and kontor how the guardian answered (a worker does this,
    queued by the answer's own transaction; once per case, by the outbox's dedup key)."""
    case = LookupCase.objects.select_related("pupil", "school", "group").get(pk=case_id)
    _tell_staff(
        case,
        kinds.LOOKUP_ANSWERED,
        "answered",
        [Role.CONTACT_TEACHER, Role.OFFICE],
        {"answer": _answer_label(case.answer, case.answer_text, case.school.language)},
    )


def report_received(
    *, actor: Any, pupil_id: int, start: dt.date, end: dt.date, pupil: Pupil | None = None
) -> None:
    """A guardian reported absence covering today: that accounts for the pupil, so today's
    case (if any) is answered "reported" and closes as found, in one write. A ``pupil`` read
    with ``with_open_case`` brings the case along: no read of it here."""
    today = clock.today()
    if not start <= today <= end:
        return
    now = clock.now()
    cases: list[LookupCase]
    if pupil is not None and hasattr(pupil, "open_case_id"):
        case_id: int | None = getattr(pupil, "open_case_id", None)
        school_id: int = getattr(pupil, "open_case_school_id", 0)
        given: str = getattr(pupil, "open_case_answer", "") or ""
        cases = [] if case_id is None else [
            LookupCase(pk=case_id, pupil_id=pupil_id, school_id=school_id, answer=given)
        ]  # fmt: skip
    else:
        cases = selectors.open_cases_of([pupil_id], today)
    for case in cases:
        answered = not case.answer
        fields: dict[str, Any] = {
            "status": Status.CLOSED,
            "outcome": Outcome.FOUND,
            "outcome_text": "",
            "closed_by": actor,
            "closed_at": now,
        }
        if answered:
            fields |= {"answer": Answer.REPORTED, "answered_by": actor, "answered_at": now}
        if not LookupCase.objects.filter(pk=case.pk).exclude(status=Status.CLOSED).update(**fields):
            continue  # closed a moment ago by someone else
        entry = {"actor": actor, "obj": case, "role": "guardian", "school_id": case.school_id}
        closing = entry | {"action": "absence.lookup.closed", "detail": {"outcome": Outcome.FOUND}}
        answer = entry | {
            "action": "absence.lookup.answered",
            "detail": {"answer": Answer.REPORTED},
        }
        audit_log_many(*([answer, closing] if answered else [closing]))


def lookup_close(*, actor: Any, case_id: int, outcome: str, text: str = "") -> LookupCase:
    """Staff close a case with its outcome (arrived, found, police contacted, other)."""
    case = selectors.staff_case(actor=actor, case_id=case_id)
    text = text.strip()
    if outcome not in LookupCase.Outcome.values:
        raise ValidationError({"outcome": _("Choose how the case ended.")})
    if outcome == LookupCase.Outcome.OTHER and not text:
        raise ValidationError({"text": _("Write what happened.")})
    if len(text) > ANSWER_TEXT_MAX:
        raise ValidationError({"text": _("Keep the note to 300 characters.")})
    with transaction.atomic():
        locked = LookupCase.objects.select_for_update().select_related("pupil", "school")
        case = locked.get(pk=case.pk)
        if not case.is_open:
            raise ValidationError(_("This case is already closed."), code="closed")
        if not selectors.may_close(actor, case):
            raise PermissionDenied
        role = selectors.staff_role(actor, case)
        _close(case, actor=actor, outcome=outcome, text=text, role=role)
    return case
