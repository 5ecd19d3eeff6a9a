"""Pages about the school: the home page per role, pupils, groups, the school overview,
the school's settings and the audit log."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kontaktbok.accounts.mfa import passed_mfa
from kontaktbok.core.audit import audit_log
from kontaktbok.core.selectors import audit_entries
from kontaktbok.schools import access, selectors, services
from kontaktbok.schools.forms import (
    AbsenceTypeForm,
    AuditSearchForm,
    HolidayForm,
    SchoolSettingsForm,
)
from kontaktbok.schools.models import School, StaffRole

Role = StaffRole.Role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One page per role: my children, my groups, the whole school."""
    actor = request.user
    roles = access.roles_of(actor)
    context = {
        "children": selectors.guardian_children(actor=actor) if roles.is_guardian else [],
        "groups": selectors.staff_groups(actor=actor) if roles.group_roles else [],
        "overview_schools": access.staff_schools(actor, Role.OFFICE, Role.LEADERSHIP),
        "admin_schools": selectors.schools_administered(actor=actor),
        "audit_schools": access.staff_schools(actor, Role.LEADERSHIP),
        "demo": settings.DEMO,
    }
    return render(request, "schools/home.html", context)


@login_required
def pupil_detail(request: HttpRequest, pupil_id: int) -> HttpResponse:
    actor = request.user
    pupil = selectors.get_pupil(actor=actor, pupil_id=pupil_id)
    role = access.pupil_role(actor, pupil)
    audit_log(
        actor=actor, action="schools.pupil.read", obj=pupil, role=role, school_id=pupil.school_id
    )
    groups = list(pupil.groups.all())
    contacts = selectors.guardian_contacts(
        actor=actor, pupil=pupil, passed_mfa=passed_mfa(request), role=role
    )
    context = {
        "pupil": pupil,
        "groups": groups,
        "contact_teachers": selectors.contact_teachers(groups),
        "contacts": contacts,
        "guardianships": selectors.pupil_guardians(actor=actor, pupil=pupil)
        if contacts is None
        else [],
        "is_staff_view": role not in ("", "guardian"),
        "may_edit": access.keeps_people(actor, pupil.school_id),
    }
    return render(request, "schools/pupil_detail.html", context)


@login_required
def pupil_reads(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """For a guardian: who at the school has seen what about their child, and when."""
    pupil, page, reads = selectors.pupil_reads(
        actor=request.user, pupil_id=pupil_id, page=request.GET.get("page")
    )
    context = {"pupil": pupil, "page": page, "reads": reads}
    return render(request, "schools/pupil_reads.html", context)


@login_required
def pupil_guardian_contacts(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """How to reach a pupil's guardians, one tap from the registration sheet: for the
    contact teacher, class team, kontor and leiing; the read is audited."""
    actor = request.user
    pupil = selectors.get_pupil(actor=actor, pupil_id=pupil_id)
    contacts = selectors.guardian_contacts(actor=actor, pupil=pupil, passed_mfa=passed_mfa(request))
    if contacts is None:
        raise Http404
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    return render(
        request,
        "schools/pupil_contacts.html",
        {"pupil": pupil, "contacts": contacts, "back": back},
    )


@login_required
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    group = selectors.get_group(actor=request.user, group_id=group_id)
    return render(request, "schools/group_detail.html", {"group": group})


@login_required
def school_overview(request: HttpRequest, school_id: int) -> HttpResponse:
    school, groups = selectors.school_overview(actor=request.user, school_id=school_id)
    return render(request, "schools/school_overview.html", {"school": school, "groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def school_settings(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school admin edits the school-day settings and sees the absence types."""
    school = selectors.get_administered_school(actor=request.user, school_id=school_id)
    form = SchoolSettingsForm(request.POST or None, instance=school)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            services.school_settings_update(actor=request.user, school=school, data=data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("school_settings", school_id=school.pk)
    if request.method == "POST":
        school.refresh_from_db()
    return _settings_page(request, school, form=form, holiday_form=HolidayForm())


def _settings_page(
    request: HttpRequest, school: School, *, form: SchoolSettingsForm, holiday_form: HolidayForm
) -> HttpResponse:
    year = selectors.current_school_year(school)
    context = {
        "school": school,
        "form": form,
        "holiday_form": holiday_form,
        "school_year": year,
        "holidays": year.holidays.all() if year else [],
        "absence_types": selectors.absence_types(school),
    }
    invalid = form.errors or holiday_form.errors
    return render(request, "schools/school_settings.html", context, status=400 if invalid else 200)


@login_required
@require_http_methods(["POST"])
def holiday_add(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school admin adds a holiday to the current school year."""
    school = selectors.get_administered_school(actor=request.user, school_id=school_id)
    year = selectors.current_school_year(school)
    if year is None:
        raise Http404
    holiday_form = HolidayForm(request.POST)
    if holiday_form.is_valid():
        try:
            services.holiday_add(actor=request.user, school_year=year, **holiday_form.cleaned_data)
        except ValidationError as exc:
            holiday_form.add_error(None, exc)
        else:
            messages.success(request, _("The holiday was added."))
            return redirect("school_settings", school_id=school.pk)
    return _settings_page(
        request, school, form=SchoolSettingsForm(instance=school), holiday_form=holiday_form
    )


@login_required
@require_http_methods(["POST"])
def holiday_remove(request: HttpRequest, school_id: int, holiday_id: int) -> HttpResponse:
    school = selectors.get_administered_school(actor=request.user, school_id=school_id)
    holiday = selectors.get_holiday(school, holiday_id)
    services.holiday_remove(actor=request.user, holiday=holiday)
    messages.success(request, _("The holiday was removed."))
    return redirect("school_settings", school_id=school.pk)


@login_required
@require_http_methods(["GET", "POST"])
def absence_type_edit(
    request: HttpRequest, school_id: int, type_id: int | None = None
) -> HttpResponse:
    school = selectors.get_administered_school(actor=request.user, school_id=school_id)
    item = selectors.get_absence_type(school, type_id) if type_id is not None else None
    form = AbsenceTypeForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.absence_type_save(
                actor=request.user, school=school, absence_type=item, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The absence type was saved."))
            return redirect("school_settings", school_id=school.pk)
    return render(
        request,
        "schools/absence_type_form.html",
        {"school": school, "form": form, "item": item},
        status=400 if form.errors else 200,
    )


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    """Leiing searches the audit log of their own school."""
    schools = access.staff_schools(request.user, Role.LEADERSHIP)
    school_ids = list(schools.values_list("pk", flat=True))
    if not school_ids:
        raise Http404
    form = AuditSearchForm(request.GET or None)
    entries = audit_entries(school_ids=school_ids).none()
    if not request.GET:
        entries = audit_entries(school_ids=school_ids)
    elif form.is_valid():
        entries = audit_entries(
            school_ids=school_ids,
            action=form.cleaned_data["action"],
            actor_text=form.cleaned_data["actor"],
            object_type=form.cleaned_data["object_type"],
            object_id=form.cleaned_data["object_id"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    page = Paginator(entries.select_related(None), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "schools/audit_search.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


# --- people: kontor keeps the school's pupils ----------------------------------------------
