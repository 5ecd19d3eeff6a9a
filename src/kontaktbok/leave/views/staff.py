"""Staff: the queue, deciding, recording consent, reconsidering appeals; the school
admin's leave rules."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontaktbok.core.forms import add_errors
from kontaktbok.leave import rules, selectors, services
from kontaktbok.leave.forms import (
    ConsentRecordForm,
    DecisionForm,
    LeaveRulesForm,
    ReconsiderForm,
)
from kontaktbok.leave.models import Consent, LeaveApplication, LeaveRules
from kontaktbok.leave.services import RULES_FIELDS
from kontaktbok.schools import selectors as school_selectors

Status = LeaveApplication.Status


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The applications the actor decides, appeals to reconsider, and the rest they see."""
    if not selectors.is_leave_staff(request.user):
        raise Http404
    return render(request, "leave/queue.html", {"queue": selectors.staff_queue(actor=request.user)})


def _review_page(
    request: HttpRequest,
    application: LeaveApplication,
    *,
    decision_form: DecisionForm | None = None,
    consent_form: ConsentRecordForm | None = None,
    reconsider_form: ReconsiderForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.user
    leave_rules = selectors.rules_for(application.school)
    background = selectors.pupil_background(
        actor=actor, application=application, leave_rules=leave_rules
    )
    pending = _pending(application)
    may_decide = rules.may_decide(actor, application)
    decisions = list(application.decisions.all())
    context = {
        "application": application,
        "pupil": application.pupil,
        "rules": leave_rules,
        "background": background,
        "over_limit_now": selectors.counts_against_limit(leave_rules, application.category)
        and background.days_used + application.school_days > leave_rules.max_days_per_year,
        "beyond_principal": selectors.beyond_principal(leave_rules, application.school_days),
        "decisions": decisions,
        "appeal": getattr(application, "appeal", None),
        "may_decide": may_decide,
        "show_decide": may_decide and application.status == Status.SUBMITTED,
        "show_reconsider": may_decide and application.status == Status.APPEAL_PENDING,
        "show_send_on": may_decide and application.status == Status.SENT_TO_STATSFORVALTER,
        "show_consent": bool(pending)
        and application.status == Status.AWAITING_CONSENT
        and rules.may_record_consent(actor, application),
        "decision_form": decision_form or DecisionForm(),
        "consent_form": consent_form or ConsentRecordForm(guardians=pending),
        "reconsider_form": reconsider_form or ReconsiderForm(),
    }
    return render(request, "leave/review.html", context, status=status)


@login_required
def review(request: HttpRequest, application_id: int) -> HttpResponse:
    """The application with the pupil's leave and absence this year and the rules."""
    found = selectors.staff_application(actor=request.user, application_id=application_id)
    return _review_page(request, found)


def _decider_review(request: HttpRequest, application_id: int) -> LeaveApplication:
    """The application, for a page shown again to one who may decide it; else 404."""
    found = selectors.staff_application(actor=request.user, application_id=application_id)
    if not rules.may_decide(request.user, found):
        raise Http404
    return found


@login_required
@require_POST
def decide(request: HttpRequest, application_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if form.is_valid():
        # The service checks that the actor may decide it (404 if not).
        try:
            services.leave_decide(
                actor=request.user,
                application_id=application_id,
                outcome=form.cleaned_data["outcome"],
                reasons=form.cleaned_data["reasons"],
                approved_start=form.cleaned_data.get("approved_start"),
                approved_end=form.cleaned_data.get("approved_end"),
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("The decision was made. The guardians are told and can read it.")
            )
            return redirect("leave_review", application_id=application_id)
    found = _decider_review(request, application_id)
    return _review_page(request, found, decision_form=form, status=400)


def _pending(application: LeaveApplication) -> list[tuple[int, str]]:
    return [
        (c.guardian_id, c.guardian.get_full_name())
        for c in application.consents.all()
        if c.status == Consent.Status.PENDING
    ]


@login_required
@require_POST
def record_consent(request: HttpRequest, application_id: int) -> HttpResponse:
    # Parsed only; the service checks access and that the guardian is waiting.
    form = ConsentRecordForm(request.POST, guardians=None)
    refused: ValidationError | None = None
    if form.is_valid():
        try:
            services.leave_consent_record(
                actor=request.user,
                application_id=application_id,
                guardian_id=form.cleaned_data["guardian"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            refused = error
        else:
            messages.success(request, _("The consent was recorded."))
            return redirect("leave_review", application_id=application_id)
    found = selectors.staff_application(actor=request.user, application_id=application_id)
    if not rules.may_record_consent(request.user, found):
        raise Http404
    # Shown again with the guardians to choose from, and what was wrong.
    shown = ConsentRecordForm(request.POST, guardians=_pending(found))
    if refused is not None:
        add_errors(shown, refused)
    return _review_page(request, found, consent_form=shown, status=400)


@login_required
@require_POST
def reconsider(request: HttpRequest, application_id: int) -> HttpResponse:
    """Reconsider an appeal: change the decision, or uphold it and send it on."""
    form = ReconsiderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        change = data["result"] == ReconsiderForm.CHANGE
        try:
            services.leave_appeal_reconsider(
                actor=request.user,
                application_id=application_id,
                change=change,
                note=data["note"],
                outcome=data.get("outcome") or "",
                reasons=data.get("reasons") or "",
                approved_start=data.get("approved_start"),
                approved_end=data.get("approved_end"),
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_errors(form, error)
        else:
            if change:
                messages.success(request, _("The decision was changed. The guardians are told."))
            else:
                messages.success(
                    request,
                    _(
                        "The decision stands. Send the case to the appeal body as described "
                        "below. The guardians are told."
                    ),
                )
            return redirect("leave_review", application_id=application_id)
    found = _decider_review(request, application_id)
    return _review_page(request, found, reconsider_form=form, status=400)


@login_required
@require_POST
def appeal_sent_on(request: HttpRequest, application_id: int) -> HttpResponse:
    """The decider records that the case of an upheld appeal is sent to the appeal body."""
    try:
        services.leave_appeal_sent_on(actor=request.user, application_id=application_id)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Recorded as sent to the appeal body. The guardians are told."))
    return redirect("leave_review", application_id=application_id)


# --- the school admin ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rules_settings(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's leave rules: the municipality's regulation, overridden for the school."""
    school = school_selectors.get_administered_school(actor=request.user, school_id=school_id)
    own = selectors.school_rules_row(school)
    current = selectors.rules_for(school)
    instance = own or LeaveRules(municipality_id=school.municipality_id, school=school)
    initial = {} if own else {name: getattr(current, name) for name in RULES_FIELDS}
    form = LeaveRulesForm(request.POST or None, instance=instance, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            services.leave_rules_save(actor=request.user, school=school, data=data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The leave rules were saved."))
            return redirect("leave_rules", school_id=school.pk)
    context: dict[str, Any] = {
        "school": school,
        "form": form,
        "own": own is not None,
    }
    return render(request, "leave/rules_settings.html", context, status=400 if form.errors else 200)
