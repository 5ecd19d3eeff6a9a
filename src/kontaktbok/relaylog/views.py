"""Pages of the relay log. Every page of a log goes through ``access.participation``: a
person who does not take part gets 404, whatever their role at the school."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kontaktbok.core.ids import to_id
from kontaktbok.national import services as national
from kontaktbok.relaylog import access, closing, selectors, services
from kontaktbok.relaylog.forms import (
    CloseForm,
    CreatorForm,
    EntryForm,
    EvaluationForm,
    GoalForm,
    InviteForm,
    LogCreateForm,
    MeasureForm,
    PaperConsentForm,
)
from kontaktbok.relaylog.models import Participant, RelayLog


def scoped(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and a refusal answers 404 like a log one does not take part in."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            raise Http404 from None

    return wrapper


def _errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _language() -> str:
    language = (get_language() or "nn")[:2]
    return language if language in services.LANGUAGES else "nn"


def _school_staff(school_id: int) -> Any:
    return (
        get_user_model()
        .objects.filter(staff_memberships__school_id=school_id, is_active=True)
        .distinct()
    )


@scoped
def home(request: HttpRequest) -> HttpResponse:
    """The logs I take part in; leiing's count by level; opening a log."""
    from kontaktbok.schools.access import roles_of
    from kontaktbok.schools.models import StaffRole

    leading = roles_of(request.user).schools_with(StaffRole.Role.LEADERSHIP)
    logs, waiting = access.readable_and_waiting(request.user)
    return render(
        request,
        "relaylog/home.html",
        {
            "logs": logs,
            "waiting": waiting,
            "leading": leading,
            "may_create": access.creatable_pupils(request.user).exists(),
        },
    )


@scoped
def counts(request: HttpRequest, school_id: int) -> HttpResponse:
    """Leiing: how many open logs at each level, without names."""
    return render(
        request, "relaylog/counts.html", selectors.count_by_level(request.user, school_id)
    )


@scoped
@require_http_methods(["GET", "POST"])
def creators(request: HttpRequest, school_id: int) -> HttpResponse:
    """Leiing: the staff members allowed to open relay logs, and allowing one more."""
    if not access.is_leadership(request.user, school_id):
        raise Http404
    staff = _school_staff(school_id)
    form = CreatorForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            services.creator_allow(
                actor=request.user, school_id=school_id, user=form.cleaned_data["user"]
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("The staff member can now open relay logs."))
            return redirect("relaylog_creators", school_id=school_id)
    return render(
        request,
        "relaylog/creators.html",
        {
            "form": form,
            "school_id": school_id,
            "creators": selectors.creators(request.user, school_id),
        },
        status=400 if form.errors else 200,
    )


@scoped
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    pupils = access.creatable_pupils(request.user).order_by("last_name", "first_name")
    if not pupils.exists():
        raise Http404
    school_ids = list(pupils.values_list("school_id", flat=True).distinct())
    staff = get_user_model().objects.filter(staff_memberships__school_id__in=school_ids).distinct()
    form = LogCreateForm(request.POST or None, pupils=pupils, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            log = services.log_create(
                actor=request.user,
                pupil=form.cleaned_data["pupil"],
                concern=form.cleaned_data["concern"],
                level=form.cleaned_data["level"],
                holder=form.cleaned_data["holder"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, _("The relay log is opened. The guardians are asked for their consent.")
            )
            return redirect("relaylog_detail", log_id=log.pk)
    return render(
        request, "relaylog/create.html", {"form": form}, status=400 if form.errors else 200
    )


@scoped
def detail(request: HttpRequest, log_id: int) -> HttpResponse:
    """The log: consents, participants, plan, entries and the baton. Every read is
    audited, each entry shown too."""
    page = selectors.log_page(request.user, log_id)
    services.record_reads(
        actor=request.user, log=page["log"], participant=page["me"], entries=page["entries"]
    )
    page["entry_form"] = EntryForm(entries=page["entries"])
    page["baton_candidates"] = [
        p
        for p in page["participants"]
        if p.kind in (Participant.Kind.STAFF, Participant.Kind.SERVICE)
        and p.user_id != page["log"].holder_id
    ]
    return render(request, "relaylog/detail.html", page)


@scoped
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, log_id: int) -> HttpResponse:
    """A guardian or the pupil reads the consent text in their language and confirms."""
    page = selectors.log_page(request.user, log_id)
    service = request.POST.get("service", request.GET.get("service", ""))
    if service not in page["consents_to_give"]:
        raise Http404
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.consent_give(
                actor=request.user, log_id=log_id, service=service, language=_language()
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you. Your consent is recorded."))
            return redirect("relaylog_detail", log_id=log_id)
    text = services.consent_text(page["log"], service, _language())
    return render(request, "relaylog/consent.html", {**page, "service": service, "text": text})


@scoped
@require_http_methods(["GET", "POST"])
def consent_paper(request: HttpRequest, log_id: int) -> HttpResponse:
    """School staff taking part record a consent given on paper, with the scanned form."""
    page = selectors.log_page(request.user, log_id)
    if page["me"].kind != Participant.Kind.STAFF or not page["log"].is_open:
        raise Http404
    guardians = [p.user for p in page["participants"] if p.kind == Participant.Kind.GUARDIAN]
    services_named = sorted({p.service for p in page["participants"] if p.service})
    form = PaperConsentForm(
        request.POST or None, request.FILES or None, guardians=guardians, services=services_named
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record_paper(
                actor=request.user,
                log_id=log_id,
                given_by_kind=form.cleaned_data["given_by_kind"],
                guardian_id=form.cleaned_data["guardian"],
                service=form.cleaned_data["service"],
                language=_language(),
                scanned_form=form.cleaned_data["scanned_form"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("The consent on paper is recorded."))
            return redirect("relaylog_detail", log_id=log_id)
    return render(
        request,
        "relaylog/consent_paper.html",
        {**page, "form": form},
        status=400 if form.errors else 200,
    )


@scoped
@require_POST
def consent_withdraw(request: HttpRequest, log_id: int, consent_id: int) -> HttpResponse:
    try:
        services.consent_withdraw(actor=request.user, log_id=log_id, consent_id=consent_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The consent is withdrawn."))
    return redirect("relaylog_detail", log_id=log_id)


@scoped
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, log_id: int) -> HttpResponse:
    """The holder invites school staff, the pupil (from the consent age) or a person from
    another service. People from outside the school get a join link and log in with
    ID-porten through it."""
    page = selectors.log_page(request.user, log_id)
    if not page["is_holder"] or not page["log"].is_open:
        raise Http404
    log = page["log"]
    taken = {p.user_id for p in page["participants"]}
    staff = _school_staff(log.school_id).exclude(pk__in=taken)
    form = InviteForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.participant_invite(
                actor=request.user,
                log_id=log_id,
                kind=data["kind"],
                user_id=data["user"].pk if data["user"] else None,
                email=data["email"],
                full_name=data["full_name"],
                phone=data["phone"],
                service=data["service"],
                role=data["role"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("The person is invited."))
            return redirect("relaylog_detail", log_id=log_id)
    return render(
        request, "relaylog/invite.html", {**page, "form": form}, status=400 if form.errors else 200
    )


def _national_identity(request: HttpRequest) -> tuple[str, dict | None]:
    """The identity number of this browser's ID-porten login: the logged-in person's, or
    one kept a few minutes for a person with no account here yet (with that login)."""
    if request.user.is_authenticated:
        pid = national.session_pid(request)
        if pid:
            return pid, None
    offer = national.citizen_offered(request)
    return (offer["pid"], offer) if offer else ("", None)


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The link a person from another service, or the pupil, got when invited: they log
    in with ID-porten through it and join; the link binds the participation to them and
    is used up. A used or too old link says so."""
    link = services.join_link_open(token)
    if link is None:
        return render(request, "relaylog/join.html", {"gone": True}, status=410)
    pid, offer = _national_identity(request)
    if request.method == "POST":
        if not pid:
            raise PermissionDenied
        try:
            user, _participant = services.participant_join(token=token, pid=pid)
        except ValidationError as exc:
            return render(
                request,
                "relaylog/join.html",
                {"link": link, "identified": True, "error": exc.messages[0]},
                status=400,
            )
        messages.success(
            request,
            _(
                "You take part in the relay log now. You can read it once the consents it "
                "needs are given."
            ),
        )
        if offer is not None:  # no account of theirs was logged in: log the bound one in
            return national.offer_log_in(
                request, user=user, offer=offer, redirect_url=reverse("relaylog_home")
            )
        return redirect("relaylog_home")
    if not pid:
        national.follow_after_login(request, request.path)
    idporten = [a["provider_id"] for a in national.configured() if a["provider_id"] == "idporten"]
    return render(
        request,
        "relaylog/join.html",
        {"link": link, "identified": bool(pid), "idporten": idporten[0] if idporten else ""},
    )


@scoped
@require_POST
def entry_add(request: HttpRequest, log_id: int) -> HttpResponse:
    page = selectors.log_page(request.user, log_id)
    form = EntryForm(request.POST, request.FILES, entries=page["entries"])
    if form.is_valid():
        try:
            services.entry_add(
                actor=request.user,
                log_id=log_id,
                body=form.cleaned_data["body"],
                corrects_id=form.cleaned_data["corrects"],
                attachment=form.cleaned_data["attachment"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("The entry is added."))
            return redirect("relaylog_detail", log_id=log_id)
    return render(request, "relaylog/entry_form.html", {**page, "form": form}, status=400)


@scoped
def attachment(request: HttpRequest, log_id: int, attachment_uuid: Any) -> HttpResponse:
    found, data = services.attachment_open(
        actor=request.user, log_id=log_id, attachment_uuid=attachment_uuid
    )
    response = HttpResponse(data, content_type=found.content_type)
    response["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@scoped
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest, log_id: int) -> HttpResponse:
    """The action plan: goals, measures and evaluations (school staff and services)."""
    page = selectors.log_page(request.user, log_id)
    if not page["may_plan"]:
        raise Http404
    goals = page["goals"]
    measures = [m for g in goals for m in g.measures.all()]
    action = request.POST.get("action", "")
    goal_form = GoalForm(request.POST if action == "goal" else None, prefix="goal")
    measure_form = MeasureForm(
        request.POST if action == "measure" else None, prefix="measure", goals=goals
    )
    evaluation_form = EvaluationForm(
        request.POST if action == "evaluation" else None, prefix="evaluation", measures=measures
    )
    if request.method == "POST":
        form = {"goal": goal_form, "measure": measure_form, "evaluation": evaluation_form}.get(
            action
        )
        if form is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "goal":
                    services.goal_add(actor=request.user, log_id=log_id, text=data["text"])
                elif action == "measure":
                    services.measure_add(
                        actor=request.user,
                        log_id=log_id,
                        goal_id=data["goal"],
                        text=data["text"],
                        responsible=data["responsible"],
                        deadline=data["deadline"],
                        evaluate_on=data["evaluate_on"],
                    )
                else:
                    services.evaluation_add(
                        actor=request.user,
                        log_id=log_id,
                        measure_id=data["measure"],
                        text=data["text"],
                        outcome=data["outcome"],
                        next_evaluation_on=data["next_evaluation_on"],
                    )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("The plan is saved."))
                return redirect("relaylog_plan", log_id=log_id)
    return render(
        request,
        "relaylog/plan.html",
        {
            **page,
            "goal_form": goal_form,
            "measure_form": measure_form,
            "evaluation_form": evaluation_form,
            "measures": measures,
        },
        status=400 if request.method == "POST" else 200,
    )


@scoped
@require_POST
def handover(request: HttpRequest, log_id: int) -> HttpResponse:
    """The holder asks another participant to take over the baton."""
    try:
        to_user_id = to_id(request.POST.get("to_user") or 0)
    except ValueError:
        to_user_id = 0
    try:
        services.handover_request(actor=request.user, log_id=log_id, to_user_id=to_user_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The handover is asked for. You hold the baton until it is accepted.")
        )
    return redirect("relaylog_detail", log_id=log_id)


@scoped
@require_POST
def handover_answer(request: HttpRequest, log_id: int, handover_id: int) -> HttpResponse:
    accept = request.POST.get("answer") == "accept"
    try:
        services.handover_answer(
            actor=request.user, log_id=log_id, handover_id=handover_id, accept=accept
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("You hold the baton now.") if accept else _("The handover is answered.")
        )
    return redirect("relaylog_detail", log_id=log_id)


@scoped
@require_POST
def level(request: HttpRequest, log_id: int) -> HttpResponse:
    """The holder's decision on the level (the 14-day decision at level 0)."""
    try:
        services.level_decide(
            actor=request.user, log_id=log_id, level=int(request.POST.get("level") or -1)
        )
    except (ValueError, ValidationError):
        messages.error(request, _("Choose a level from 0 to 3."))
    else:
        messages.success(request, _("The level is saved."))
    return redirect("relaylog_detail", log_id=log_id)


@scoped
def reads(request: HttpRequest, log_id: int) -> HttpResponse:
    """Who has read what in the log, and when."""
    log, rows = selectors.reads(request.user, log_id)
    return render(request, "relaylog/reads.html", {"log": log, "rows": rows})


@scoped
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, log_id: int) -> HttpResponse:
    """The holder closes the log; a guardian can close it at any time."""
    page = selectors.log_page(request.user, log_id)
    log = page["log"]
    if not log.is_open or not (page["is_holder"] or page["is_guardian"]):
        raise Http404
    initial = {"reason": RelayLog.CloseReason.GUARDIANS} if page["is_guardian"] else {}
    form = CloseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            closing.log_close(actor=request.user, log_id=log_id, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, _("The relay log is closed. It can be read but no longer changed.")
            )
            return redirect("relaylog_detail", log_id=log_id)
    return render(
        request, "relaylog/close.html", {**page, "form": form}, status=400 if form.errors else 200
    )


@scoped
def document(request: HttpRequest, log_id: int) -> HttpResponse:
    """The closed log's PDF, as it goes to the archive; audited."""
    log, participant = access.participation(request.user, log_id)
    if log.is_open:
        raise Http404
    data = closing.document_bytes(log)
    services.record_document_read(actor=request.user, log=log, participant=participant)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="stafettlogg-{log.pk}.pdf"'
    return response
