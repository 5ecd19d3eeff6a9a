"""Helpers shared by the leave services."""

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from kontaktbok.leave.models import (
    Decision,
    LeaveApplication,
)
from kontaktbok.schools.models import StaffRole

Status = LeaveApplication.Status
Outcome = Decision.Outcome
Role = StaffRole.Role


def date_text(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def payload(application: LeaveApplication) -> dict[str, str]:
    return {
        "name": application.pupil.first_name,
        "start": date_text(application.start_date),
        "end": date_text(application.end_date),
        "applicant": application.applicant.get_full_name() if application.applicant else "",
    }


def guardian_url(application: LeaveApplication) -> str:
    return reverse("leave_application", args=[application.pk])


def staff_url(application: LeaveApplication) -> str:
    return reverse("leave_review", args=[application.pk])


def locked(application_id: int) -> LeaveApplication:
    """The application row, locked for the rest of the transaction."""
    return (
        LeaveApplication.objects.select_for_update(of=("self",))
        .select_related("pupil__school__municipality", "school__municipality", "applicant")
        .get(pk=application_id)
    )


def check_text(errors: dict[str, str], name: str, value: str, message: str) -> None:
    if not value.strip():
        errors[name] = message
    elif len(value.strip()) > 1000:
        errors[name] = _("Keep it to 1000 characters.")
