"""Every write about absence: reports, attendance, leave days and the daily check."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from kontaktbok.absence import rules
from kontaktbok.absence.lookup import selectors as lookup_selectors
from kontaktbok.absence.lookup import services as lookup
from kontaktbok.absence.models import (
    AbsenceReport,
    AttendanceMark,
    DailyCheck,
    LeaveExplanation,
    LookupCase,
)
from kontaktbok.absence.selectors import checked_dates, guardian_report
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.schools import access, selectors
from kontaktbok.schools.models import AbsenceType, Group, Pupil


@dataclass(frozen=True)
class ReportWindow:
    """The dates a report may cover today: this week's past school days (late) and the
    coming school days up to the school's limit."""

    earliest: dt.date
    latest: dt.date


def report_window(pupil: Pupil, today: dt.date | None = None) -> ReportWindow:
    today = today or clock.today()
    school = pupil.school
    year = selectors.current_school_year(school, today)
    monday = today - dt.timedelta(days=today.weekday())
    if year is None:
        return ReportWindow(earliest=today, latest=today - dt.timedelta(days=1))
    coming = selectors.school_days(year, today, year.ends_on)
    limit = school.report_max_school_days
    latest = coming[min(limit, len(coming)) - 1] if coming else today - dt.timedelta(days=1)
    return ReportWindow(earliest=max(monday, year.starts_on), latest=latest)


def is_late(pupil: Pupil, start_date: dt.date) -> bool:
    """Late if it starts on a past day, or today at or after the school's deadline."""
    now = clock.local_now()
    if start_date < now.date():
        return True
    return start_date == now.date() and now.time() >= pupil.school.report_deadline


def _guardian_pupil(actor: Any, pupil_id: int, **period: Any) -> Pupil:
    """One of the actor's own children; with a ``period`` (the arguments of
    ``_overlapping``), annotated in the same query with ``overlapping_id`` (a report of
    theirs that covers some of that time) and today's open lookup case, if any."""
    pupils = access.guardian_pupils(actor).select_related("school")
    if period:
        reports = _overlapping(OuterRef("pk"), **period)
        pupils = lookup_selectors.with_open_case(
            pupils.annotate(overlapping_id=Subquery(reports.values("pk")[:1]))
        )
    pupil = pupils.filter(pk=pupil_id).first()
    if pupil is None:
        raise PermissionDenied
    return pupil


def _validate(
    pupil: Pupil,
    *,
    start_date: dt.date,
    end_date: dt.date,
    absence_type: AbsenceType,
    whole_day: bool,
    start_time: dt.time | None,
    end_time: dt.time | None,
) -> list[dt.date]:
    errors: dict[str, str] = {}
    if absence_type.school_id != pupil.school_id or not absence_type.active:
        errors["absence_type"] = _("Choose a type from the school's list.")
    window = report_window(pupil)
    if start_date < window.earliest:
        errors["start_date"] = _(
            "You can report absence back to Monday this week. For earlier days, write a "
            "message to the contact teacher."
        )
    if end_date < start_date:
        errors["end_date"] = _("The last day cannot be before the first day.")
    elif end_date > window.latest:
        errors["end_date"] = _(
            "You can report absence up to %(date)s. For longer absence, apply for leave."
        ) % {"date": window.latest.strftime("%d.%m.%Y")}
    if not whole_day:
        if start_time is None or end_time is None:
            errors["start_time"] = _("Give the times, or choose the whole day.")
        elif start_time >= end_time:
            errors["end_time"] = _("The end time must be after the start time.")
    if errors:
        raise ValidationError(errors)
    year = selectors.current_school_year(pupil.school)
    days = selectors.school_days(year, start_date, end_date) if year else []
    if not days:
        raise ValidationError({"start_date": _("There are no school days in this period.")})
    return days


def _overlapping(
    pupil: Any,
    *,
    start_date: dt.date,
    end_date: dt.date,
    whole_day: bool,
    start_time: dt.time | None,
    end_time: dt.time | None,
    exclude: int | None = None,
) -> QuerySet[AbsenceReport]:
    """The pupil's active reports that cover some of the same time (days, or hours of the
    same day when both are for part of the day). ``pupil`` may be an ``OuterRef``."""
    found = AbsenceReport.objects.filter(
        pupil=pupil,
        status=AbsenceReport.Status.ACTIVE,
        start_date__lte=end_date,
        end_date__gte=start_date,
    )
    if exclude is not None:
        found = found.exclude(pk=exclude)
    if not whole_day:
        found = found.filter(
            Q(whole_day=True) | Q(start_time__lt=end_time, end_time__gt=start_time)
        )
    return found.order_by("start_date")


def _overlap_error(report: AbsenceReport) -> ValidationError:
    return ValidationError(
        {
            "start_date": _(
                "This time is already reported (%(start)s–%(end)s). Change that report "
                "instead, or choose other days."
            )
            % {
                "start": report.start_date.strftime("%d.%m.%Y"),
                "end": report.end_date.strftime("%d.%m.%Y"),
            }
        },
        code="overlap",
    )


def _check_comment(comment: str) -> None:
    if len(comment.strip()) > 200:
        raise ValidationError({"comment": _("Keep the comment to 200 characters.")})


def _checked_days(pupil: Pupil, *periods: tuple[dt.date, dt.date]) -> bool:
    """Whether the class team has checked a day in any of ``periods`` (one query)."""
    checked = checked_dates(pupil, min(p[0] for p in periods), max(p[1] for p in periods))
    return any(start <= day <= end for day in checked for start, end in periods)


def _refuse_if_checked(pupil: Pupil, *periods: tuple[dt.date, dt.date]) -> None:
    """A report stays as it is once the class team has checked one of its days."""
    if _checked_days(pupil, *periods):
        raise ValidationError(
            _(
                "The class team has checked this day. Write a message to "
                "the contact teacher to change it."
            ),
            code="checked",
        )


def absence_report_create(
    *,
    actor: Any,
    pupil_id: int,
    start_date: dt.date,
    end_date: dt.date,
    absence_type: AbsenceType,
    whole_day: bool = True,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    comment: str = "",
    idempotency_key: str | None = None,
) -> AbsenceReport:
    """Meld fråvær: a guardian reports a child's absence, once for any time: a report that
    overlaps an active one is refused. A retry with the same ``idempotency_key`` (a double
    tap, a flaky phone) returns the first report."""
    period: dict[str, Any] = {
        "start_date": start_date,
        "end_date": end_date,
        "whole_day": whole_day,
        "start_time": start_time,
        "end_time": end_time,
    }
    times_given = whole_day or (start_time is not None and end_time is not None)
    pupil = _guardian_pupil(actor, pupil_id, **(period if times_given else {}))
    _check_comment(comment)
    days = _validate(pupil, absence_type=absence_type, **period)
    overlapping_id = getattr(pupil, "overlapping_id", None)
    if overlapping_id is not None:
        overlapping = AbsenceReport.objects.get(pk=overlapping_id)
        retried = overlapping.reported_by_id == actor.pk and idempotency_key
        if retried and overlapping.idempotency_key == idempotency_key:
            return overlapping  # the same request again: the first one stands
        raise _overlap_error(overlapping)
    try:
        with transaction.atomic():
            report = _report_insert(
                actor=actor,
                pupil=pupil,
                absence_type=absence_type,
                start_date=start_date,
                end_date=end_date,
                whole_day=whole_day,
                start_time=start_time,
                end_time=end_time,
                comment=comment,
                idempotency_key=idempotency_key,
                detail={"days": len(days)},
            )
            lookup.report_received(
                actor=actor, pupil_id=pupil.pk, start=start_date, end=end_date, pupil=pupil
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same request sent again (or twice at once): the first one stands.
        return AbsenceReport.objects.get(reported_by=actor, idempotency_key=idempotency_key)
    return report


def _report_insert(
    *,
    actor: Any,
    pupil: Pupil,
    absence_type: AbsenceType,
    start_date: dt.date,
    end_date: dt.date,
    whole_day: bool = True,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    comment: str = "",
    idempotency_key: str | None = None,
    detail: dict[str, Any],
    late: bool | None = None,
) -> AbsenceReport:
    """Write a checked report and its audit entry (in the caller's transaction); ``late``
    by the school's deadline unless told."""
    now = clock.now()
    report = AbsenceReport.objects.create(
        pupil=pupil,
        school_id=pupil.school_id,
        reported_by=actor,
        absence_type=absence_type,
        start_date=start_date,
        end_date=end_date,
        whole_day=whole_day,
        start_time=None if whole_day else start_time,
        end_time=None if whole_day else end_time,
        comment=comment.strip()[:200],
        late=is_late(pupil, start_date) if late is None else late,
        idempotency_key=idempotency_key or None,
        created_at=now,
        updated_at=now,
    )
    audit_log(
        actor=actor,
        action="absence.report.created",
        obj=report,
        role="guardian",
        school_id=pupil.school_id,
        detail=detail | {"late": report.late},
    )
    return report


def absence_report_for_lookup(
    *, actor: Any, case: LookupCase, absence_type: AbsenceType
) -> AbsenceReport:
    """A guardian's one tap "at home sick" on a lookup alert, written as a report of the
    given type for the case's day. Called by the answer, in its transaction, once it has
    found the case among the guardian's own: the day is the case's, a school day, so the
    report needs none of the form's checks. It is not late: the school asked for it."""
    case.pupil.school = case.school  # read with the case; spares a query
    return _report_insert(
        late=False,
        actor=actor,
        pupil=case.pupil,
        absence_type=absence_type,
        start_date=case.date,
        end_date=case.date,
        idempotency_key=f"lookup:{case.pk}",
        detail={"days": 1, "lookup": case.pk},
    )


def _own_report(actor: Any, report_id: int) -> AbsenceReport:
    try:
        return guardian_report(actor=actor, report_id=report_id)
    except Http404:
        raise PermissionDenied from None


def absence_report_update(
    *,
    actor: Any,
    report_id: int,
    start_date: dt.date,
    end_date: dt.date,
    absence_type: AbsenceType,
    whole_day: bool = True,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    comment: str = "",
) -> AbsenceReport:
    """Change a report, until the class team has checked one of its days."""
    report = _own_report(actor, report_id)
    if report.status != AbsenceReport.Status.ACTIVE:
        raise ValidationError(_("This report was withdrawn."), code="withdrawn")
    _validate(
        report.pupil,
        start_date=start_date,
        end_date=end_date,
        absence_type=absence_type,
        whole_day=whole_day,
        start_time=start_time,
        end_time=end_time,
    )
    with transaction.atomic():
        # Checked in the transaction that writes: a check in between counts.
        _refuse_if_checked(
            report.pupil, (report.start_date, report.end_date), (start_date, end_date)
        )
        overlapping = _overlapping(
            report.pupil,
            start_date=start_date,
            end_date=end_date,
            whole_day=whole_day,
            start_time=start_time,
            end_time=end_time,
            exclude=report.pk,
        ).first()
        if overlapping is not None:
            raise _overlap_error(overlapping)
        report.start_date, report.end_date = start_date, end_date
        report.absence_type, report.whole_day = absence_type, whole_day
        report.start_time = None if whole_day else start_time
        report.end_time = None if whole_day else end_time
        report.comment = comment.strip()[:200]
        report.late = report.late or is_late(report.pupil, start_date)
        report.updated_at = clock.now()
        report.save()
        audit_log(
            actor=actor,
            action="absence.report.updated",
            obj=report,
            role="guardian",
            school_id=report.school_id,
        )
    return report


def absence_report_withdraw(*, actor: Any, report_id: int) -> AbsenceReport:
    report = _own_report(actor, report_id)
    # Checked in the transaction that writes: a check or a withdrawal in between counts.
    with transaction.atomic():
        _refuse_if_checked(report.pupil, (report.start_date, report.end_date))
        report.status = AbsenceReport.Status.WITHDRAWN
        report.updated_at = clock.now()
        withdrawn = AbsenceReport.objects.filter(
            pk=report.pk, status=AbsenceReport.Status.ACTIVE
        ).update(status=report.status, updated_at=report.updated_at)
        if not withdrawn:
            raise ValidationError(_("This report was withdrawn."), code="withdrawn")
        audit_log(
            actor=actor,
            action="absence.report.withdrawn",
            obj=report,
            role="guardian",
            school_id=report.school_id,
        )
    return report


def withdrawal_undoable(report: AbsenceReport) -> bool:
    """Whether a withdrawn report is still within ``REPORT_UNDO_MINUTES`` of its withdrawal."""
    window = dt.timedelta(minutes=settings.REPORT_UNDO_MINUTES)
    return (
        report.status == AbsenceReport.Status.WITHDRAWN
        and clock.now() - report.updated_at <= window
    )


def absence_report_restore(*, actor: Any, report_id: int) -> AbsenceReport:
    """Undo a withdrawal, within ``REPORT_UNDO_MINUTES`` of it: the report is active again
    (and accounts for the pupil again, closing a lookup its withdrawal may have started),
    unless the class team has checked one of its days since or another report now covers
    the same time. A second tap changes nothing."""
    report = _own_report(actor, report_id)
    if report.status == AbsenceReport.Status.ACTIVE:
        return report
    if not withdrawal_undoable(report):
        raise ValidationError(
            _("It is too late to undo the withdrawal. Report the absence again instead."),
            code="too_late",
        )
    with transaction.atomic():
        _refuse_if_checked(report.pupil, (report.start_date, report.end_date))
        overlapping = _overlapping(
            report.pupil_id,
            start_date=report.start_date,
            end_date=report.end_date,
            whole_day=report.whole_day,
            start_time=report.start_time,
            end_time=report.end_time,
            exclude=report.pk,
        ).first()
        if overlapping is not None:
            raise _overlap_error(overlapping)
        report.updated_at = clock.now()
        restored = AbsenceReport.objects.filter(
            pk=report.pk, status=AbsenceReport.Status.WITHDRAWN
        ).update(status=AbsenceReport.Status.ACTIVE, updated_at=report.updated_at)
        report.status = AbsenceReport.Status.ACTIVE
        if restored:
            audit_log(
                actor=actor,
                action="absence.report.restored",
                obj=report,
                role="guardian",
                school_id=report.school_id,
            )
            lookup.report_received(
                actor=actor, pupil_id=report.pupil_id, start=report.start_date, end=report.end_date
            )
    return report


@dataclass(frozen=True)
class Mark:
    pupil_id: int
    status: str
    late_minutes: int | None = None
    staff_reason: str = ""


def _not_a_day_for(group: Group, date: dt.date) -> str:
    """Why attendance and the daily check cannot be recorded for ``group`` on a past or
    present ``date`` ('' when they can): only on school days of the group's own school
    year (not at weekends, in holidays, or for last year's class), and at most
    ``ATTENDANCE_DAYS_BACK`` days back."""
    days_back = settings.ATTENDANCE_DAYS_BACK
    if date < clock.today() - dt.timedelta(days=days_back):
        return _("Attendance can be recorded at most %(days)d days back.") % {"days": days_back}
    year = selectors.school_year_if_school_day(group.school, date)
    if year is None or year.pk != group.school_year_id:
        return _("%(date)s is not a school day for %(group)s.") % {
            "date": date.strftime("%d.%m.%Y"),
            "group": group.name,
        }
    return ""


def attendance_register(
    *, actor: Any, group_id: int, date: dt.date, marks: list[Mark], lesson: int | None = None
) -> list[AttendanceMark]:
    """Register the group's attendance for a day (or lesson): "all present" plus exceptions.
    Registering again replaces the earlier marks."""
    group = access.visible_groups(actor).select_related("school").filter(pk=group_id).first()
    if group is None or not rules.works_with_group(actor, group):
        raise PermissionDenied
    members = set(group.pupils.values_list("pk", flat=True))
    errors = []
    for mark in marks:
        if mark.pupil_id not in members:
            raise PermissionDenied
        if mark.status not in AttendanceMark.Status.values:
            errors.append(_("Unknown attendance status."))
        if mark.status == AttendanceMark.Status.LATE and not (mark.late_minutes or 0) > 0:
            errors.append(_("Give how many minutes late."))
    if lesson is not None and not 1 <= lesson <= group.school.lessons_per_day:
        errors.append(_("There is no such lesson."))
    if date > clock.today():
        errors.append(_("Attendance cannot be registered for a day that has not come."))
    elif day_error := _not_a_day_for(group, date):
        errors.append(day_error)
    if errors:
        raise ValidationError(sorted(set(errors)))
    try:
        return _save_marks(actor, group, date, lesson, marks)
    except IntegrityError:
        # Another save of the same class and day came in between this one's read and write
        # (two teachers saving the first registration at once): saved again over it.
        return _save_marks(actor, group, date, lesson, marks)


def _existing_marks(
    group: Group, date: dt.date, lesson: int | None, pupil_ids: list[int]
) -> dict[int, AttendanceMark]:
    marks = AttendanceMark.objects.filter(
        group=group, date=date, lesson=lesson, pupil_id__in=pupil_ids
    )
    return {m.pupil_id: m for m in marks}


def _save_marks(
    actor: Any, group: Group, date: dt.date, lesson: int | None, marks: list[Mark]
) -> list[AttendanceMark]:
    now = clock.now()
    existing = _existing_marks(group, date, lesson, [m.pupil_id for m in marks])
    new, changed = [], []
    for mark in marks:
        values = {
            "status": mark.status,
            "late_minutes": mark.late_minutes if mark.status == "late" else None,
            "staff_reason": mark.staff_reason.strip()[:200] if mark.status != "present" else "",
            "registered_by": actor,
            "registered_at": now,
        }
        item = existing.get(mark.pupil_id)
        if item is None:
            new.append(
                AttendanceMark(
                    pupil_id=mark.pupil_id, group=group, date=date, lesson=lesson, **values
                )
            )
        else:
            for name, value in values.items():
                setattr(item, name, value)
            changed.append(item)
    with transaction.atomic():
        AttendanceMark.objects.bulk_create(new)
        AttendanceMark.objects.bulk_update(
            changed, ["status", "late_minutes", "staff_reason", "registered_by", "registered_at"]
        )
        audit_log(
            actor=actor,
            action="absence.attendance.registered",
            obj=group,
            role=rules.role_in_group(actor, group),
            school_id=group.school_id,
            detail={
                "date": str(date),
                "lesson": lesson,
                "marks": len(marks),
                "absent": sum(m.status != "present" for m in marks),
            },
        )
        lookup.after_registration(group=group, date=date, marks=new + changed)
    return new + changed


def daily_check_mark(*, actor: Any, group_id: int, date: dt.date | None = None) -> DailyCheck:
    """The class team marks the day's absence as checked (who and when)."""
    date = date or clock.today()
    if date > clock.today():
        raise ValidationError(_("A day that has not come cannot be checked."))
    group = access.visible_groups(actor).select_related("school").filter(pk=group_id).first()
    if group is None or not rules.may_check(actor, group):
        raise PermissionDenied
    if day_error := _not_a_day_for(group, date):
        raise ValidationError(day_error)
    with transaction.atomic():
        check, created = DailyCheck.objects.get_or_create(
            group=group, date=date, defaults={"checked_by": actor, "checked_at": clock.now()}
        )
        if created:
            audit_log(
                actor=actor,
                action="absence.daily_check.done",
                obj=group,
                school_id=group.school_id,
                detail={"date": str(date)},
            )
    return check


def leave_days_record(
    *, actor: Any, pupil: Pupil, start_date: dt.date, end_date: dt.date, reference: str
) -> LeaveExplanation:
    """Approved leave explains the absence on these days (called by the leave part)."""
    with transaction.atomic():
        item, _created = LeaveExplanation.objects.update_or_create(
            reference=reference,
            defaults={
                "pupil": pupil,
                "start_date": start_date,
                "end_date": end_date,
                "created_at": clock.now(),
            },
        )
        audit_log(
            actor=actor,
            action="absence.leave.recorded",
            obj=item,
            school_id=pupil.school_id,
            detail={"reference": reference},
        )
    return item


def leave_days_remove(*, actor: Any, reference: str) -> bool:
    """Leave no longer given (a decision changed on appeal) no longer explains absence."""
    with transaction.atomic():
        item = LeaveExplanation.objects.filter(reference=reference).select_related("pupil").first()
        if item is None:
            return False
        audit_log(
            actor=actor,
            action="absence.leave.removed",
            obj=item,
            school_id=item.pupil.school_id,
            detail={"reference": reference},
        )
        item.delete()
    return True
