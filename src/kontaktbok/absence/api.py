"""JSON API for absence: guardians' reports, attendance registration and the daily check.

Thin: every call goes through the absence services and selectors with the caller as actor.
A foreign id (or an action the caller may not take) answers 404; a refused input 422 with
the messages per field.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema, Status

from kontaktbok.absence import selectors, services
from kontaktbok.absence.models import AbsenceReport
from kontaktbok.core import clock
from kontaktbok.core.api import ERRORS, scoped
from kontaktbok.core.ratelimit import throttles
from kontaktbok.schools import access
from kontaktbok.schools.models import AbsenceType, School

router = Router(tags=["absence"])


# --- schemas --------------------------------------------------------------------------


class ReportIn(Schema):
    pupil_id: int
    start_date: dt.date
    end_date: dt.date
    absence_type: str = Field(description="The code of a type on the school's list, e.g. 'sick'")
    whole_day: bool = True
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    comment: str = Field("", max_length=200, description="Short; no health details needed")


class ReportPatch(Schema):
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    absence_type: str | None = None
    whole_day: bool | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    comment: str | None = Field(None, max_length=200)


class ReportOut(Schema):
    id: int
    pupil_id: int
    start_date: dt.date
    end_date: dt.date
    absence_type: str
    absence_type_name: str
    whole_day: bool
    start_time: dt.time | None
    end_time: dt.time | None
    comment: str
    late: bool
    status: str
    reported_by: str | None = Field(description="The name of the guardian who reported it")
    created_at: dt.datetime
    updated_at: dt.datetime


class SheetReportOut(Schema):
    """A report on the day sheet; type and comment only for those who need to know."""

    id: int
    whole_day: bool
    start_time: dt.time | None
    end_time: dt.time | None
    late: bool
    absence_type: str | None
    absence_type_name: str | None
    comment: str | None


class SheetRowOut(Schema):
    pupil_id: int
    first_name: str
    last_name: str
    status: str | None = Field(description="present, absent, late, or null (not registered)")
    late_minutes: int | None
    staff_reason: str
    on_leave: bool
    explanation: str = Field(description="reported, leave, staff, unexplained, or ''")
    show_details: bool
    report: SheetReportOut | None


class CheckOut(Schema):
    group_id: int
    date: dt.date
    checked_by: str | None
    checked_at: dt.datetime


class SheetOut(Schema):
    group_id: int
    group_name: str
    date: dt.date
    lesson: int | None
    registered: bool
    check: CheckOut | None
    counts: dict[str, int]
    rows: list[SheetRowOut]


class MarkIn(Schema):
    pupil_id: int
    status: str = Field(description="present, absent or late")
    late_minutes: int | None = Field(None, ge=1, le=600)
    staff_reason: str = Field("", max_length=200)


class MarkOut(Schema):
    pupil_id: int
    status: str
    late_minutes: int | None
    staff_reason: str
    registered_at: dt.datetime


class AttendanceOut(Schema):
    """What was saved; the day sheet (``GET .../sheet``) shows it with the explanations."""

    group_id: int
    date: dt.date
    lesson: int | None
    marks: list[MarkOut]


class AttendanceIn(Schema):
    date: dt.date
    lesson: int | None = Field(None, description="Null for the whole day")
    marks: list[MarkIn]


# --- helpers --------------------------------------------------------------------------


def _absence_type(school: School | int, code: str) -> AbsenceType:
    found = selectors.absence_type_by_code(school, code)
    if found is None:
        raise ValidationError({"absence_type": _("Choose a type from the school's list.")})
    return found


def _report_out(report: AbsenceReport) -> ReportOut:
    return ReportOut(
        id=report.pk,
        pupil_id=report.pupil_id,
        start_date=report.start_date,
        end_date=report.end_date,
        absence_type=report.absence_type.code,
        absence_type_name=report.absence_type.name,
        whole_day=report.whole_day,
        start_time=report.start_time,
        end_time=report.end_time,
        comment=report.comment,
        late=report.late,
        status=report.status,
        reported_by=report.reported_by.get_full_name() if report.reported_by else None,
        created_at=report.created_at,
        updated_at=report.updated_at,
    )


def _check_out(check: Any) -> CheckOut:
    return CheckOut(
        group_id=check.group_id,
        date=check.date,
        checked_by=check.checked_by.get_full_name() if check.checked_by else None,
        checked_at=check.checked_at,
    )


def _sheet_out(sheet: selectors.Sheet) -> SheetOut:
    rows = []
    for row in sheet.rows:
        report = None
        if row.report is not None:
            details = row.show_details
            report = SheetReportOut(
                id=row.report.pk,
                whole_day=row.report.whole_day,
                start_time=row.report.start_time,
                end_time=row.report.end_time,
                late=row.report.late,
                absence_type=row.report.absence_type.code if details else None,
                absence_type_name=row.report.absence_type.name if details else None,
                comment=row.report.comment if details else None,
            )
        rows.append(
            SheetRowOut(
                pupil_id=row.pupil.pk,
                first_name=row.pupil.first_name,
                last_name=row.pupil.last_name,
                status=row.mark.status if row.mark else None,
                late_minutes=row.mark.late_minutes if row.mark else None,
                staff_reason=row.mark.staff_reason if row.mark else "",
                on_leave=row.on_leave,
                explanation=row.explanation,
                show_details=row.show_details,
                report=report,
            )
        )
    return SheetOut(
        group_id=sheet.group.pk,
        group_name=sheet.group.name,
        date=sheet.date,
        lesson=sheet.lesson,
        registered=sheet.registered,
        check=_check_out(sheet.check) if sheet.check else None,
        counts=sheet.counts,
        rows=rows,
    )


# --- guardians ------------------------------------------------------------------------


@router.post("/reports", response={201: ReportOut, **ERRORS}, throttle=throttles("absence.report"))
@scoped
def report_create(
    request: HttpRequest,
    payload: ReportIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="A retried request with the same key returns the first report",
    ),
) -> Any:
    """Meld fråvær for one of the caller's children."""
    pupil = selectors.guardian_child(actor=request.user, pupil_id=payload.pupil_id)
    report = services.absence_report_create(
        actor=request.user,
        pupil_id=pupil.pk,
        start_date=payload.start_date,
        end_date=payload.end_date,
        absence_type=_absence_type(pupil.school_id, payload.absence_type),
        whole_day=payload.whole_day,
        start_time=payload.start_time,
        end_time=payload.end_time,
        comment=payload.comment,
        idempotency_key=idempotency_key or None,
    )
    return Status(201, _report_out(report))


@router.get("/reports", response={200: list[ReportOut], **ERRORS})
@scoped
def report_list(request: HttpRequest, pupil_id: int | None = None) -> Any:
    """This school year's reports for the caller's children (one child with ``pupil_id``),
    whoever of the guardians made them. Each child's history read is audited."""
    if pupil_id is not None:
        children = [selectors.guardian_child(actor=request.user, pupil_id=pupil_id)]
    else:
        children = list(access.guardian_pupils(request.user).select_related("school"))
    result: list[ReportOut] = []
    for child in children:
        history = selectors.absence_history(actor=request.user, pupil=child, role="guardian")
        result.extend(_report_out(r) for r in history.reports)
    return Status(200, result)


@router.patch("/reports/{report_id}", response={200: ReportOut, **ERRORS})
@scoped
def report_update(request: HttpRequest, report_id: int, payload: ReportPatch) -> Any:
    """Change a report (only the fields given), until the class team has checked the day."""
    report = selectors.guardian_report(actor=request.user, report_id=report_id)
    given = payload.dict(exclude_unset=True)
    whole_day = given.get("whole_day", report.whole_day)
    code = given.get("absence_type") or report.absence_type.code
    updated = services.absence_report_update(
        actor=request.user,
        report_id=report.pk,
        start_date=given.get("start_date") or report.start_date,
        end_date=given.get("end_date") or report.end_date,
        absence_type=_absence_type(report.school_id, code),
        whole_day=whole_day,
        start_time=given.get("start_time", report.start_time),
        end_time=given.get("end_time", report.end_time),
        comment=given.get("comment", report.comment) or "",
    )
    return Status(200, _report_out(updated))


@router.post("/reports/{report_id}/withdraw", response={200: ReportOut, **ERRORS})
@scoped
def report_withdraw(request: HttpRequest, report_id: int) -> Any:
    """Withdraw a report, until the class team has checked the day."""
    report = services.absence_report_withdraw(actor=request.user, report_id=report_id)
    return Status(200, _report_out(report))


# --- staff ----------------------------------------------------------------------------


@router.get("/groups/{group_id}/sheet", response={200: SheetOut, **ERRORS})
@scoped
def day_sheet(
    request: HttpRequest, group_id: int, date: dt.date | None = None, lesson: int | None = None
) -> Any:
    """The group's day: pupils, marks, reports (type and comment only for those who need to
    know), leave, and the daily check."""
    group = selectors.staff_group(actor=request.user, group_id=group_id)
    sheet = selectors.day_sheet(
        actor=request.user, group=group, date=date or clock.today(), lesson=lesson
    )
    return Status(200, _sheet_out(sheet))


@router.put("/groups/{group_id}/attendance", response={200: AttendanceOut, **ERRORS})
@scoped
def attendance_register(request: HttpRequest, group_id: int, payload: AttendanceIn) -> Any:
    """Register the day (or a lesson); registering again replaces the marks given. Answers
    with the marks saved; the day sheet shows them with their explanations."""
    marks = services.attendance_register(
        actor=request.user,
        group_id=group_id,
        date=payload.date,
        lesson=payload.lesson,
        marks=[
            services.Mark(
                pupil_id=m.pupil_id,
                status=m.status,
                late_minutes=m.late_minutes,
                staff_reason=m.staff_reason,
            )
            for m in payload.marks
        ],
    )
    saved = [
        MarkOut(
            pupil_id=m.pupil_id,
            status=m.status,
            late_minutes=m.late_minutes,
            staff_reason=m.staff_reason,
            registered_at=m.registered_at,
        )
        for m in sorted(marks, key=lambda m: m.pupil_id)
    ]
    return Status(
        200, AttendanceOut(group_id=group_id, date=payload.date, lesson=payload.lesson, marks=saved)
    )


@router.post("/groups/{group_id}/check", response={200: CheckOut, **ERRORS})
@scoped
def daily_check(request: HttpRequest, group_id: int, date: dt.date | None = None) -> Any:
    """The class team marks the day checked (today unless ``date``); a repeat is a no-op."""
    check = services.daily_check_mark(actor=request.user, group_id=group_id, date=date)
    return Status(200, _check_out(check))
