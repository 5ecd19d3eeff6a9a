"""Guardians: apply for leave, agree as the other guardian, read the decision, appeal;
the letter and the appeal case, which staff read here too."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from kontaktbok.core import clock
from kontaktbok.core.forms import add_errors
from kontaktbok.core.ratelimit import limit
from kontaktbok.leave import selectors, services
from kontaktbok.leave.forms import (
    AppealForm,
    ApplicationForm,
)
from kontaktbok.leave.models import Consent, Decision, LeaveApplication
from kontaktbok.leave.views.common import pdf_response

Status = LeaveApplication.Status


@login_required
def child_leave(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """The child's leave applications, by either guardian, with their status."""
    pupil = selectors.guardian_child(actor=request.user, pupil_id=pupil_id)
    applications = list(selectors.guardian_applications(actor=request.user, pupil=pupil))
    return render(request, "leave/child.html", {"pupil": pupil, "applications": applications})


def _confirmation(application: LeaveApplication) -> str:
    text = ngettext(
        "The application for %(name)s was made: %(count)d school day.",
        "The application for %(name)s was made: %(count)d school days.",
        application.school_days,
    ) % {"name": application.pupil.first_name, "count": application.school_days}
    if application.status == Status.AWAITING_CONSENT:
        text += " " + _(
            "The other guardian is asked to agree; the application reaches the school when "
            "they have."
        )
    else:
        text += " " + _("It has been sent to the school.")
    return text


def _applied(request: HttpRequest, application: LeaveApplication) -> None:
    """Tell the guardian the application was made, with any warning."""
    messages.success(request, _confirmation(application))
    if not (application.late or application.over_limit):
        return
    # The rules the service applied (kept on the school it read; no second read).
    leave_rules = selectors.rules_for(application.school)
    if application.late:
        messages.warning(
            request,
            _(
                "The application came later than the school's lead time of "
                "%(days)d days. It is sent, but the school may not have time to "
                "consider it before the leave."
            )
            % {"days": leave_rules.lead_time_days},
        )
    if application.over_limit:
        messages.warning(
            request,
            _(
                "With this leave, the child would have more than %(limit)d school "
                "days of leave this school year. The school sees this when it "
                "decides."
            )
            % {"limit": leave_rules.max_days_per_year},
        )


@login_required
@require_http_methods(["GET", "POST"])
@limit("leave.apply")
def apply(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Apply for leave: the school's leave rules, the days, the reason and the learning."""
    actor = request.user
    preview = None
    status = 200
    if request.method == "POST" and "count" not in request.POST:
        form = ApplicationForm(request.POST)
        if form.is_valid():
            # The service checks that the child is the actor's own.
            try:
                application = services.leave_application_create(
                    actor=actor,
                    pupil_id=pupil_id,
                    idempotency_key=form.cleaned_data.get("idempotency_key") or None,
                    **form.service_arguments(),
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_errors(form, error)
            else:
                _applied(request, application)
                return redirect("leave_application", application_id=application.pk)
        status = 400
    pupil = selectors.guardian_child(actor=actor, pupil_id=pupil_id)
    leave_rules = selectors.rules_for(pupil.school)
    if request.method == "POST" and "count" in request.POST:
        # "Count the school days": show the days and any warning, send nothing.
        form = ApplicationForm(request.POST)
        form.is_valid()
        data = form.cleaned_data
        if data.get("start_date") and data.get("end_date"):
            preview = selectors.preview(
                pupil=pupil,
                start_date=data["start_date"],
                end_date=data["end_date"],
                category=data.get("category") or "",
            )
        # Shown again as typed, without error messages.
        form = ApplicationForm(
            initial={k: v for k, v in request.POST.items() if k in ApplicationForm.base_fields}
        )
    elif request.method != "POST":
        form = ApplicationForm()
    context = {"pupil": pupil, "form": form, "rules": leave_rules, "preview": preview}
    return render(request, "leave/apply.html", context, status=status)


def _guardian_page(
    request: HttpRequest,
    application: LeaveApplication,
    *,
    appeal_form: AppealForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.user
    decisions = list(application.decisions.all())
    decision = decisions[-1] if decisions else None
    my_consent = next((c for c in application.consents.all() if c.guardian_id == actor.pk), None)
    appeal = getattr(application, "appeal", None)
    may_appeal = (
        appeal is None
        and decision is not None
        and application.status in LeaveApplication.DECIDED
        and decision.outcome != Decision.Outcome.APPROVED
    )
    context = {
        "application": application,
        "pupil": application.pupil,
        "decisions": decisions,
        "decision": decision,
        "appeal": appeal,
        "asked": my_consent is not None
        and my_consent.status == Consent.Status.PENDING
        and application.status == Status.AWAITING_CONSENT,
        "may_withdraw": application.status in LeaveApplication.OPEN,
        "may_appeal": may_appeal,
        "appeal_late": decision is not None and clock.today() > decision.appeal_deadline,
        "appeal_form": appeal_form or AppealForm(),
        "rules": selectors.rules_for(application.school),
    }
    return render(request, "leave/application.html", context, status=status)


@login_required
def application(request: HttpRequest, application_id: int) -> HttpResponse:
    """The application as the guardians see it: status, consent, decision and appeal."""
    found = selectors.guardian_application(actor=request.user, application_id=application_id)
    return _guardian_page(request, found)


@login_required
@require_POST
def consent(request: HttpRequest, application_id: int) -> HttpResponse:
    """The other guardian agrees, or does not."""
    agree = request.POST.get("answer") == "agree"
    try:
        services.leave_consent_answer(
            actor=request.user, application_id=application_id, agree=agree
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if agree:
            messages.success(request, _("You agreed to the application."))
        else:
            messages.success(request, _("You did not agree; the application stops here."))
    return redirect("leave_application", application_id=application_id)


@login_required
@require_POST
def withdraw(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        services.leave_application_withdraw(actor=request.user, application_id=application_id)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("leave_application", application_id=application_id)


@login_required
@require_POST
def appeal(request: HttpRequest, application_id: int) -> HttpResponse:
    """A guardian appeals the decision (within three weeks)."""
    form = AppealForm(request.POST)
    if form.is_valid():
        try:
            services.leave_appeal_create(
                actor=request.user, application_id=application_id, text=form.cleaned_data["text"]
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("The appeal was sent. The school considers the case again and tells you."),
            )
            return redirect("leave_application", application_id=application_id)
    found = selectors.guardian_application(actor=request.user, application_id=application_id)
    return _guardian_page(request, found, appeal_form=form, status=400)


@login_required
def letter(request: HttpRequest, decision_id: int) -> HttpResponse:
    """The decision letter as PDF, for the guardians and the staff who see the case (made
    now if the worker has not made it yet)."""
    decision = selectors.decision_letter(actor=request.user, decision_id=decision_id)
    return pdf_response(
        services.decision_letter_make(decision=decision),
        f"vedtak-permisjon-{decision.application_id}-{decision.pk}.pdf",
    )


@login_required
def case_pdf(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The case of an upheld appeal as PDF: for the decider to send to the appeal body, and
    the guardians' copy (made now if the worker has not made it yet)."""
    found = selectors.appeal_case(actor=request.user, appeal_id=appeal_id)
    content = services.appeal_case_make(appeal=found)
    return pdf_response(content, f"klage-permisjon-{found.application_id}.pdf")
