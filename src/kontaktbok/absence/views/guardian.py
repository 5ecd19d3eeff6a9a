"""Guardians: meld fråvær, change or withdraw a report, and the child's absence this year."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from kontaktbok.absence import selectors, services
from kontaktbok.absence.forms import HOURS, WHOLE_DAY, AbsenceReportForm
from kontaktbok.absence.models import AbsenceReport
from kontaktbok.core import clock
from kontaktbok.core.forms import add_errors
from kontaktbok.core.ratelimit import limit
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Pupil

# The longest period whose days are listed one by one under the form.
MAX_LISTED_DAYS = 31


@dataclass(frozen=True)
class Day:
    date: dt.date
    school_day: bool


def _days_in(pupil: Pupil, start: dt.date | None, end: dt.date | None) -> list[Day]:
    """Every day of the chosen period, marked school day or not (weekend, holiday)."""
    if start is None or end is None or end < start or (end - start).days >= MAX_LISTED_DAYS:
        return []
    year = school_selectors.current_school_year(pupil.school)
    school_days = set(school_selectors.school_days(year, start, end)) if year else set()
    count = (end - start).days + 1
    return [
        Day(date=day, school_day=day in school_days)
        for day in (start + dt.timedelta(days=n) for n in range(count))
    ]


def _chosen_period(form: AbsenceReportForm) -> tuple[dt.date | None, dt.date | None]:
    """The period as typed, also when a field error removed it from the cleaned data."""
    try:
        start = form.fields["start_date"].clean(form.data.get("start_date"))
        end = form.fields["end_date"].clean(form.data.get("end_date"))
    except ValidationError:
        return None, None
    return start, end


def _locked(report: AbsenceReport, checked: set[dt.date]) -> bool:
    return any(report.start_date <= day <= report.end_date for day in checked)


def _success_once(request: HttpRequest, text: str) -> None:
    """A double tap on "Send" posts twice; the child page should say it once."""
    storage = messages.get_messages(request)
    pending = [str(message) for message in storage]
    storage.used = False  # type: ignore[union-attr]
    if text not in pending:
        messages.success(request, text)


def _confirmation(pupil: Pupil, report: AbsenceReport, *, changed: bool = False) -> str:
    year = school_selectors.current_school_year(pupil.school)
    days = (
        len(school_selectors.school_days(year, report.start_date, report.end_date)) if year else 0
    )
    if changed:
        first = ngettext(
            "The report for %(name)s was changed: %(count)d school day.",
            "The report for %(name)s was changed: %(count)d school days.",
            days,
        )
    else:
        first = ngettext(
            "Absence reported for %(name)s: %(count)d school day.",
            "Absence reported for %(name)s: %(count)d school days.",
            days,
        )
    first %= {"name": pupil.first_name, "count": days}
    if report.late:
        second = _("It was reported after the deadline and is marked late.")
    else:
        second = _("It was reported in time.")
    return f"{first} {second}"


def _form_context(pupil: Pupil, form: AbsenceReportForm) -> dict[str, Any]:
    window = services.report_window(pupil)
    days: list[Day] = []
    if form.is_bound and form.errors:
        days = _days_in(pupil, *_chosen_period(form))
    return {
        "pupil": pupil,
        "form": form,
        "window": window,
        "window_open": window.earliest <= window.latest,
        "deadline": pupil.school.report_deadline,
        "days": days,
        "HOURS": HOURS,
    }


@login_required
def child_absence(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """The child's reported and registered absence this school year, with totals."""
    actor = request.user
    pupil = selectors.guardian_child(actor=actor, pupil_id=pupil_id)
    history = selectors.absence_history(actor=actor, pupil=pupil, role="guardian")
    since = min((r.start_date for r in history.reports), default=clock.today())
    checked = selectors.checked_dates(pupil, since) if history.reports else set()
    rows = [
        {
            "report": report,
            "changeable": report.status == AbsenceReport.Status.ACTIVE
            and not _locked(report, checked),
            "checked": _locked(report, checked),
            "undoable": services.withdrawal_undoable(report) and not _locked(report, checked),
        }
        for report in history.reports
    ]
    context = {"pupil": pupil, "history": history, "rows": rows}
    return render(request, "absence/guardian_child.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@limit("absence.report")
def report_create(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Meld fråvær: report that the child is (or will be) away."""
    actor = request.user
    pupil = selectors.guardian_child(actor=actor, pupil_id=pupil_id)
    types = selectors.active_absence_types(pupil.school)
    if request.method == "POST":
        form = AbsenceReportForm(request.POST, absence_types=types)
        if form.is_valid():
            try:
                report = services.absence_report_create(
                    actor=actor,
                    pupil_id=pupil.pk,
                    idempotency_key=form.cleaned_data.get("idempotency_key") or None,
                    **form.service_arguments(),
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_errors(form, error)
            else:
                _success_once(request, _confirmation(report.pupil, report))
                return redirect("absence_child", pupil_id=pupil.pk)
    else:
        today = clock.today()
        form = AbsenceReportForm(
            initial={"start_date": today, "end_date": today, "day_part": WHOLE_DAY},
            absence_types=types,
        )
    return render(request, "absence/guardian_report_form.html", _form_context(pupil, form))


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, report_id: int) -> HttpResponse:
    """Change a report, until the class team has checked one of its days."""
    actor = request.user
    report = selectors.guardian_report(actor=actor, report_id=report_id)
    pupil = report.pupil
    types = selectors.active_absence_types(pupil.school)
    refused = False
    if request.method == "POST":
        form = AbsenceReportForm(request.POST, absence_types=types)
        if form.is_valid():
            try:
                changed = services.absence_report_update(
                    actor=actor, report_id=report.pk, **form.service_arguments()
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_errors(form, error)
                refused = not hasattr(error, "error_dict")
            else:
                _success_once(request, _confirmation(changed.pupil, changed, changed=True))
                return redirect("absence_child", pupil_id=pupil.pk)
    else:
        form = AbsenceReportForm(
            initial={
                "start_date": report.start_date,
                "end_date": report.end_date,
                "day_part": WHOLE_DAY if report.whole_day else HOURS,
                "start_time": report.start_time,
                "end_time": report.end_time,
                "absence_type": report.absence_type_id,
                "comment": report.comment,
            },
            absence_types=types,
        )
    locked = (
        refused
        or report.status != AbsenceReport.Status.ACTIVE
        or _locked(report, selectors.checked_dates(pupil, report.start_date))
    )
    context = _form_context(pupil, form)
    context.update({"report": report, "locked": locked})
    return render(request, "absence/guardian_report_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def report_withdraw(request: HttpRequest, report_id: int) -> HttpResponse:
    """Withdraw a report, until the class team has checked one of its days: asked first
    (the absence then counts as unexplained, and a pupil registered absent is looked for),
    and undoable for ``REPORT_UNDO_MINUTES`` on the child's page."""
    actor = request.user
    report = selectors.guardian_report(actor=actor, report_id=report_id)
    if request.method == "GET":
        context = {"report": report, "pupil": report.pupil}
        return render(request, "absence/guardian_withdraw.html", context)
    undo = settings.REPORT_UNDO_MINUTES
    done = _("The report from %(start)s was withdrawn. You can undo it for %(minutes)d minutes.")
    return _change(request, report, services.absence_report_withdraw, done, minutes=undo)


@login_required
@require_POST
def report_restore(request: HttpRequest, report_id: int) -> HttpResponse:
    """Undo a withdrawal (for a short while after it)."""
    actor = request.user
    report = selectors.guardian_report(actor=actor, report_id=report_id)
    done = _("The report from %(start)s is active again.")
    return _change(request, report, services.absence_report_restore, done)


def _change(
    request: HttpRequest, report: AbsenceReport, change: Any, done: str, **extra: Any
) -> HttpResponse:
    """Withdraw or restore ``report`` through ``change``; say how it went, back on the
    child's page."""
    try:
        change(actor=request.user, report_id=report.pk)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        start = date_format(report.start_date, "SHORT_DATE_FORMAT")
        messages.success(request, done % {"start": start, **extra})
    return redirect("absence_child", pupil_id=report.pupil_id)
