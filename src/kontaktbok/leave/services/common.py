"""Helpers shared by the leave services."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _

from kontaktbok.leave import rules, selectors
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


def locked(
    actor: Any, application_id: int, *, as_staff: bool, with_appeal: bool = False
) -> LeaveApplication:
    """The application, if the actor sees it (as staff or as a guardian), locked for the
    rest of the transaction; PermissionDenied if not. One query: for staff it also answers
    whether the actor is the pupil's contact teacher and reads their title; with
    ``with_appeal``, the appeal and the decision appealed come along."""
    scope = selectors.staff_scope(actor) if as_staff else selectors.guardian_scope(actor)
    queryset = (
        LeaveApplication.objects.select_for_update(of=("self",))
        .select_related("pupil", "school__municipality", "applicant")
        .filter(scope, pk=application_id)
    )
    if with_appeal:
        queryset = queryset.select_related("appeal__decision").defer(
            "appeal__case_pdf", "appeal__decision__letter"
        )
    if as_staff:
        queryset = rules.with_staff_answers(queryset, actor)
    application = queryset.first()
    if application is None:
        raise PermissionDenied
    application.pupil.school = application.school  # one object: its calendar is read once
    return application


def known_related(application: LeaveApplication, **related: list[Any]) -> None:
    """Keep related rows the caller already has on the application, as
    ``prefetch_related`` would, so that ``application.consents.all()`` (say) costs no
    query."""
    cache = application.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(application, name).get_queryset()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset


def appeal_of(application: LeaveApplication) -> Any:
    """The application's appeal, when read along (``locked(..., with_appeal=True)``)."""
    return getattr(application, "appeal", None)


def tasks() -> Any:
    """The leave tasks; imported at call time, as they call these services."""
    from kontaktbok.leave import tasks as leave_tasks

    return leave_tasks


def check_text(errors: dict[str, str], name: str, value: str, message: str) -> None:
    if not value.strip():
        errors[name] = message
    elif len(value.strip()) > 1000:
        errors[name] = _("Keep it to 1000 characters.")
