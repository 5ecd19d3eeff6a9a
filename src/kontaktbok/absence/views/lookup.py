"""Looking for a missing pupil: the case page (guardians answer, staff follow and close),
and the live overview of the school's cases for kontor and leiing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontaktbok.absence.lookup import selectors, services
from kontaktbok.absence.models import LookupCase
from kontaktbok.accounts.mfa import passed_mfa
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.schools import selectors as school_selectors

# The overview refreshes itself this often (htmx polling).
REFRESH_SECONDS = 15


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _case_page(
    request: HttpRequest,
    case: LookupCase,
    as_guardian: bool,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    events = selectors.timeline(actor=request.user, case=case, as_guardian=as_guardian)
    # Staff call the guardians at once (the routine): their numbers are on the case.
    contacts = (
        None
        if as_guardian
        else school_selectors.guardian_contacts(
            actor=request.user,
            pupil=case.pupil,
            passed_mfa=passed_mfa(request),
            role=selectors.staff_role(request.user, case),
        )
    )
    return render(
        request,
        "absence/lookup_case.html",
        {
            "case": case,
            "as_guardian": as_guardian,
            "events": events,
            "contacts": contacts,
            "answers": [
                (LookupCase.Answer.HOME_SICK, LookupCase.Answer.HOME_SICK.label),
                (LookupCase.Answer.ON_THE_WAY, LookupCase.Answer.ON_THE_WAY.label),
            ],
            "outcomes": LookupCase.Outcome.choices,
            "errors": errors or [],
            "data": request.POST if request.method == "POST" else {},
            "now": clock.now(),
        },
        status=status,
    )


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """Staff see the whole timeline and close the case; guardians see their child's case,
    answer it with one tap, and the alerts sent to them."""
    case, seen_as = selectors.visible_case(actor=request.user, case_id=case_id)
    if seen_as == "staff":
        audit_log(
            actor=request.user,
            action="absence.lookup.read",
            obj=case,
            role=selectors.staff_role(request.user, case),
            school_id=case.school_id,
        )
    return _case_page(request, case, as_guardian=seen_as == "guardian")


@login_required
@require_POST
def case_answer(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = services.lookup_answer(
            actor=request.user,
            case_id=case_id,
            answer=request.POST.get("answer", ""),
            text=request.POST.get("text", ""),
        )
    except ValidationError as exc:
        case = selectors.guardian_case(actor=request.user, case_id=case_id)
        return _case_page(request, case, as_guardian=True, errors=_errors(exc), status=400)
    messages.success(request, _("Thank you. The school can see your answer now."))
    return redirect("lookup_case", case_id=case.pk)


@login_required
@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.staff_case(actor=request.user, case_id=case_id)
    try:
        services.lookup_close(
            actor=request.user,
            case_id=case.pk,
            outcome=request.POST.get("outcome", ""),
            text=request.POST.get("text", ""),
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return _case_page(request, case, as_guardian=False, errors=_errors(exc), status=400)
    messages.success(request, _("The case is closed."))
    return redirect("lookup_case", case_id=case.pk)


@login_required
def overview(request: HttpRequest, school_id: int) -> HttpResponse:
    """Kontor and leiing: the school's open cases, refreshing by itself."""
    school, cases = selectors.school_cases(actor=request.user, school_id=school_id)
    context = {
        "school": school,
        "cases": cases,
        "now": clock.now(),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "absence/lookup_overview.html", context)


@login_required
def overview_rows(request: HttpRequest, school_id: int) -> HttpResponse:
    """The overview's table alone, for htmx to swap in."""
    school, cases = selectors.school_cases(actor=request.user, school_id=school_id)
    context = {
        "school": school,
        "cases": cases,
        "now": clock.now(),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "absence/lookup_overview_rows.html", context)
