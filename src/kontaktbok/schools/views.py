"""Pages about the school: the home page per role, pupils, groups, the school overview,
the school's settings and the audit log."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontaktbok.accounts.mfa import passed_mfa
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.core.forms import add_errors
from kontaktbok.core.selectors import audit_entries
from kontaktbok.schools import access, selectors, services
from kontaktbok.schools.forms import (
    AbsenceTypeForm,
    AuditSearchForm,
    GuardianForm,
    HolidayForm,
    PupilForm,
    RoleForm,
    SchoolSettingsForm,
    StaffForm,
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


@login_required
def people_pupils(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's pupils with their class, searchable by name."""
    query = request.GET.get("q", "").strip()[:100]
    people = selectors.school_pupils(actor=request.user, school_id=school_id, query=query)
    return render(request, "schools/people_pupils.html", {"people": people, "query": query})


def _pupil_form_page(
    request: HttpRequest, form: PupilForm, school: School, pupil: Any = None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "school": school,
        "pupil": pupil,
        "today": clock.today(),
        "guardianships": selectors.kept_guardianships(pupil=pupil, passed_mfa=passed_mfa(request))
        if pupil
        else [],
    }
    return render(request, "schools/pupil_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def pupil_add(request: HttpRequest, school_id: int) -> HttpResponse:
    people = selectors.school_pupils(actor=request.user, school_id=school_id, with_pupils=False)
    if not people.may_edit:
        raise Http404
    form = PupilForm(request.POST or None, classes=people.classes, adding=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pupil = services.pupil_add(
                actor=request.user,
                school=people.school,
                passed_mfa=passed_mfa(request),
                **data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The pupil was added."))
            return redirect("pupil_detail", pupil_id=pupil.pk)
    return _pupil_form_page(request, form, people.school, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def pupil_edit(request: HttpRequest, pupil_id: int) -> HttpResponse:
    pupil = selectors.editable_pupil(actor=request.user, pupil_id=pupil_id)
    people = selectors.school_pupils(
        actor=request.user, school_id=pupil.school_id, with_pupils=False
    )
    current = pupil.groups.filter(pk__in=[g.pk for g in people.classes]).first()
    initial = {
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "date_of_birth": pupil.date_of_birth,
        "class_group": current,
        "protected_address": pupil.protected_address,
    }
    form = PupilForm(request.POST or None, initial=initial, classes=people.classes, adding=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.pupil_update(
                actor=request.user, pupil=pupil, passed_mfa=passed_mfa(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The pupil was saved."))
            return redirect("pupil_detail", pupil_id=pupil.pk)
    return _pupil_form_page(
        request, form, people.school, pupil=pupil, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def guardian_add(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Kontor adds a guardian to a pupil, or links a person already known."""
    pupil = selectors.editable_pupil(actor=request.user, pupil_id=pupil_id)
    form = GuardianForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.guardian_add(
                actor=request.user, pupil=pupil, passed_mfa=passed_mfa(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The guardian was added."))
            return redirect("pupil_detail", pupil_id=pupil.pk)
    context = {"form": form, "pupil": pupil}
    return render(
        request, "schools/guardian_form.html", context, status=400 if form.errors else 200
    )


# --- people: kontor keeps the staff and their roles ----------------------------------------


@login_required
def staff_list(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's staff and their roles now and to come."""
    staff = selectors.school_staff(actor=request.user, school_id=school_id)
    return render(request, "schools/staff_list.html", {"staff": staff, "today": clock.today()})


@login_required
@require_http_methods(["GET", "POST"])
def staff_add(request: HttpRequest, school_id: int) -> HttpResponse:
    staff = selectors.school_staff(actor=request.user, school_id=school_id)
    if not staff.may_edit:
        raise Http404
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.staff_add(
                actor=request.user, school=staff.school, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The staff member was added. Give them their roles."))
            return redirect("staff_roles", member_id=member.pk)
    context = {"form": form, "school": staff.school}
    return render(request, "schools/staff_form.html", context, status=400 if form.errors else 200)


def _roles_page(
    request: HttpRequest, member: Any, form: RoleForm | None = None, status: int = 200
) -> HttpResponse:
    groups = selectors.school_groups_now(member.school)
    context = {
        "member": member,
        "form": form or RoleForm(groups=groups),
        "today": clock.today(),
    }
    return render(request, "schools/staff_roles.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def staff_roles(request: HttpRequest, member_id: int) -> HttpResponse:
    """A staff member's roles: give one, or end one."""
    member = selectors.editable_member(actor=request.user, member_id=member_id)
    if request.method == "GET":
        return _roles_page(request, member)
    form = RoleForm(request.POST, groups=selectors.school_groups_now(member.school))
    if form.is_valid():
        try:
            services.role_give(
                actor=request.user,
                member=member,
                passed_mfa=passed_mfa(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The role was given."))
            return redirect("staff_roles", member_id=member.pk)
    return _roles_page(request, member, form, status=400)


@login_required
@require_POST
def role_end(request: HttpRequest, member_id: int, role_id: int) -> HttpResponse:
    """End one of a staff member's roles from a day (today by default)."""
    member: Any = selectors.editable_member(actor=request.user, member_id=member_id)
    role = next((r for r in member.current_roles if r.pk == role_id), None)
    if role is None:
        raise Http404
    try:
        last_day = dt.date.fromisoformat(request.POST.get("last_day", ""))
    except ValueError:
        last_day = clock.today()
    try:
        services.role_take(
            actor=request.user, role=role, last_day=last_day, passed_mfa=passed_mfa(request)
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The role was ended."))
    return redirect("staff_roles", member_id=member.pk)


@login_required
@require_POST
def pupil_leave(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Mark a pupil as having left the school after a last day."""
    pupil = selectors.editable_pupil(actor=request.user, pupil_id=pupil_id)
    try:
        last_day = dt.date.fromisoformat(request.POST.get("last_day", ""))
    except ValueError:
        messages.error(request, _("Give the pupil's last day at the school."))
        return redirect("pupil_edit", pupil_id=pupil.pk)
    try:
        services.pupil_leave(actor=request.user, pupil=pupil, last_day=last_day)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("pupil_edit", pupil_id=pupil.pk)
    messages.success(request, _("The pupil is marked as having left the school."))
    return redirect("people_pupils", school_id=pupil.school_id)


@login_required
@require_POST
def guardianship_change(request: HttpRequest, guardianship_id: int) -> HttpResponse:
    """Kontor changes a guardian's parental responsibility, living with the pupil, or
    restriction."""
    found = selectors.editable_guardianship(actor=request.user, guardianship_id=guardianship_id)
    mfa = passed_mfa(request)
    if found.restricted and found.pupil.protected_address and not mfa:
        raise Http404
    try:
        services.guardianship_change(
            actor=request.user,
            guardianship=found,
            parental_responsibility=request.POST.get("parental_responsibility") == "on",
            lives_with_pupil=request.POST.get("lives_with_pupil") == "on",
            restricted=request.POST.get("restricted") == "on",
            passed_mfa=mfa,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The guardian was saved."))
    return redirect("pupil_edit", pupil_id=found.pupil_id)
