"""Staff: attendance registration, the class team's daily check, statistics, a pupil's
absence history, and the school's check status for kontor and leiing."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kontaktbok.absence import rules, selectors, services
from kontaktbok.absence.lookup import selectors as lookup_selectors
from kontaktbok.absence.models import AttendanceMark
from kontaktbok.core import clock
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Group, School

Status = AttendanceMark.Status


def _day(request: HttpRequest) -> dt.date:
    """``?date=YYYY-MM-DD``, today when missing or not a date."""
    raw = request.GET.get("date") or request.POST.get("date") or ""
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return clock.today()


def _lesson(request: HttpRequest, school: School) -> int | None:
    """``?lesson=N`` when the school registers by lesson (1 by default), else None."""
    if not school.registers_by_lesson:
        return None
    raw = request.GET.get("lesson") or request.POST.get("lesson") or ""
    try:
        lesson = int(raw)
    except ValueError:
        return 1
    return lesson if 1 <= lesson <= school.lessons_per_day else 1


def _check_lesson(group: Group) -> int | None:
    """The daily check looks at the first lesson where the school registers by lesson."""
    return 1 if group.school.registers_by_lesson else None


@dataclass
class Entry:
    """A row of the registration form: the sheet's row and what the form shows for it."""

    row: selectors.Row
    status: str
    minutes: str
    reason: str


def _entries(sheet: selectors.Sheet, data: dict[str, str] | None) -> list[Entry]:
    entries = []
    for row in sheet.rows:
        pk = row.pupil.pk
        if data is not None:
            status, minutes, reason = _posted(data, pk)
        elif row.mark is not None:
            status = row.mark.status
            minutes = str(row.mark.late_minutes or "")
            reason = row.mark.staff_reason
        else:
            # Not registered yet: a pupil reported away for the whole day, or on approved
            # leave, starts as absent (the sheet shows why); everyone else as present.
            status = Status.ABSENT if row.expected_away else Status.PRESENT
            minutes, reason = "", ""
        entries.append(Entry(row=row, status=status, minutes=minutes, reason=reason))
    return entries


def _posted(data: dict[str, str], pupil_id: int) -> tuple[str, str, str]:
    """What the form sent for one pupil: status, minutes late and the staff's reason."""
    return (
        data.get(f"status-{pupil_id}", Status.PRESENT),
        data.get(f"minutes-{pupil_id}", "").strip(),
        data.get(f"reason-{pupil_id}", "").strip(),
    )


def _marks(data: dict[str, str], pupil_ids: list[int]) -> list[services.Mark]:
    marks = []
    for pupil_id in pupil_ids:
        status, raw_minutes, reason = _posted(data, pupil_id)
        minutes: int | None = None
        if status == Status.LATE:
            try:
                minutes = int(raw_minutes)
            except ValueError:
                raise ValidationError(_("Give how many minutes late.")) from None
        marks.append(
            services.Mark(
                pupil_id=pupil_id,
                status=status,
                late_minutes=minutes,
                staff_reason=reason if status != Status.PRESENT else "",
            )
        )
    return marks


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, group_id: int) -> HttpResponse:
    """Attendance for a group's day (or lesson): everyone present, the teacher changes only
    the exceptions. A guardian's report or approved leave is shown beside the pupil."""
    actor = request.user
    group = selectors.staff_group(actor=actor, group_id=group_id)
    school = group.school
    day = _day(request)
    lesson = _lesson(request, school)
    errors: list[str] = []
    data = request.POST.dict() if request.method == "POST" else None
    if data is not None:
        try:
            services.attendance_register(
                actor=actor,
                group_id=group.pk,
                date=day,
                marks=_marks(data, selectors.group_pupil_ids(group)),
                lesson=lesson,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("The attendance was saved."))
            query = {"date": day.isoformat()} | ({"lesson": str(lesson)} if lesson else {})
            return redirect(f"{reverse('attendance_register', args=[group.pk])}?{urlencode(query)}")
    sheet = selectors.day_sheet(actor=actor, group=group, date=day, lesson=lesson)
    entries = _entries(sheet, data)  # a form with errors shows what was sent
    context = {
        "group": group,
        "sheet": sheet,
        "entries": entries,
        "errors": errors,
        "day": day,
        "lesson": lesson,
        "lessons": range(1, school.lessons_per_day + 1) if school.registers_by_lesson else [],
        "is_today": day == clock.today(),
        "is_future": day > clock.today(),
        "school_day": school_selectors.school_year_if_school_day(school, day) is not None,
        "statuses": Status.choices,
        "registered_at": next((r.mark.registered_at for r in sheet.rows if r.mark), None),
        "lookups": lookup_selectors.group_cases(actor=actor, group_id=group.pk, day=day),
        "reach_guardians": school_selectors.may_reach_guardians(actor, group),
    }
    return render(request, "absence/staff_register.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def daily_check(request: HttpRequest, group_id: int) -> HttpResponse:
    """The class team's check before the deadline: reported, registered and unexplained
    absence today, and "checked" with who and when."""
    actor = request.user
    group = selectors.staff_group(actor=actor, group_id=group_id)
    today = clock.today()
    if request.method == "POST":
        try:
            services.daily_check_mark(actor=actor, group_id=group.pk, date=today)
        except PermissionDenied:
            raise Http404 from None
        messages.success(request, _("The day is marked as checked."))
        return redirect("daily_check", group_id=group.pk)
    sheet = selectors.day_sheet(actor=actor, group=group, date=today, lesson=_check_lesson(group))
    deadline = group.school.check_deadline
    context = {
        "group": group,
        "sheet": sheet,
        "may_check": rules.may_check(actor, group),
        "deadline": deadline,
        "past_deadline": clock.local_now().time() >= deadline,
        "school_day": school_selectors.school_year_if_school_day(group.school, today) is not None,
        "reported": [r for r in sheet.rows if r.report is not None],
        "absent": [r for r in sheet.rows if r.explanation],
        "leave": [r for r in sheet.rows if r.on_leave],
        "unexplained": [r for r in sheet.rows if r.explanation == "unexplained"],
        "conflicts": [r for r in sheet.rows if r.conflict],
        "lookups": lookup_selectors.group_cases(actor=actor, group_id=group.pk, day=today),
    }
    return render(request, "absence/staff_daily_check.html", context)


@login_required
def statistics(request: HttpRequest, group_id: int) -> HttpResponse:
    """Absence this school year per pupil, with the "concerning absence" flag."""
    actor = request.user
    group = selectors.staff_group(actor=actor, group_id=group_id)
    rows = selectors.group_statistics(actor=actor, group=group)  # 404 for other staff
    context = {
        "group": group,
        "rows": rows,
        "total_days": sum(r.absent_days for r in rows),
        "total_hours": round(sum(r.absent_hours for r in rows), 1),
        "concerning": sum(1 for r in rows if r.concerning),
    }
    return render(request, "absence/staff_statistics.html", context)


@login_required
def pupil_history(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """One pupil's absence this school year, as staff see it (the read is audited)."""
    actor = request.user
    pupil = school_selectors.get_pupil(actor=actor, pupil_id=pupil_id)
    role = access.pupil_role(actor, pupil)
    if role in ("", "guardian"):
        raise Http404
    groups = list(pupil.groups.all())
    history = selectors.absence_history(actor=actor, pupil=pupil, role=role)
    context = {
        "pupil": pupil,
        "groups": groups,
        "history": history,
        "show_details": rules.sees_report_details(actor, pupil, groups),
    }
    return render(request, "absence/staff_pupil_history.html", context)


@login_required
def school_status(request: HttpRequest, school_id: int) -> HttpResponse:
    """Kontor and leiing: which classes have checked today; refreshes itself (htmx)."""
    school, rows, past = selectors.school_check_status(actor=request.user, school_id=school_id)
    context = {
        "school": school,
        "rows": rows,
        "past": past,
        "checked": sum(1 for r in rows if r.check is not None),
        "now": clock.local_now(),
    }
    partial = request.headers.get("HX-Request") == "true"
    template = (
        "absence/staff_school_status_list.html" if partial else "absence/staff_school_status.html"
    )
    return render(request, template, context)
