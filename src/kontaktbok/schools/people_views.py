"""The people pages: kontor and the school admin keep the pupils, their guardians and the
staff with their roles; leiing reads."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontaktbok.accounts.mfa import passed_mfa
from kontaktbok.core import clock
from kontaktbok.core.forms import add_errors
from kontaktbok.schools import selectors, services
from kontaktbok.schools.forms import (
    GuardianForm,
    PupilForm,
    RoleForm,
    StaffForm,
)
from kontaktbok.schools.models import School, StaffRole

Role = StaffRole.Role


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
    last_day = _last_day(request) or clock.today()
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
    last_day = _last_day(request)
    if last_day is None:
        messages.error(request, _("Give the pupil's last day at the school."))
        return redirect("pupil_edit", pupil_id=pupil.pk)
    try:
        services.pupil_leave(actor=request.user, pupil=pupil, last_day=last_day)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("pupil_edit", pupil_id=pupil.pk)
    if last_day > clock.today():
        messages.success(
            request,
            _("The pupil leaves the school after %(day)s.")
            % {"day": date_format(last_day, "j.n.Y")},
        )
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


def _last_day(request: HttpRequest) -> dt.date | None:
    """The ``last_day`` a form posted, None if it is missing or no date."""
    try:
        return dt.date.fromisoformat(request.POST.get("last_day", ""))
    except ValueError:
        return None


def _errors_to_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def guardianship_end(request: HttpRequest, guardianship_id: int) -> HttpResponse:
    """Kontor ends a guardianship after a last day (today by default)."""
    found = selectors.editable_guardianship(actor=request.user, guardianship_id=guardianship_id)
    mfa = passed_mfa(request)
    if found.restricted and found.pupil.protected_address and not mfa:
        raise Http404
    last_day = _last_day(request) or clock.today()
    try:
        kept = services.guardianship_end(
            actor=request.user, guardianship=found, last_day=last_day, passed_mfa=mfa
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        if kept is None:
            messages.success(request, _("The guardianship has ended."))
        else:
            messages.success(
                request,
                _("The guardianship ends after %(day)s.") % {"day": last_day.strftime("%d.%m.%Y")},
            )
    return redirect("pupil_edit", pupil_id=found.pupil_id)


@login_required
@require_POST
def staff_leave(request: HttpRequest, member_id: int) -> HttpResponse:
    """The staff member leaves the school after a last day: every role ends."""
    member: Any = selectors.editable_member(actor=request.user, member_id=member_id)
    last_day = _last_day(request) or clock.today()
    try:
        services.staff_leave(
            actor=request.user, member=member, last_day=last_day, passed_mfa=passed_mfa(request)
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("Every role of the staff member ends after their last day."))
    return redirect("staff_roles", member_id=member.pk)


@login_required
@require_POST
def staff_feide(request: HttpRequest, member_id: int) -> HttpResponse:
    """Kontor records the staff member's Feide id."""
    member: Any = selectors.editable_member(actor=request.user, member_id=member_id)
    try:
        services.staff_feide_set(
            actor=request.user, member=member, feide_id=request.POST.get("feide_id", "")
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("The Feide id is saved."))
    return redirect("staff_roles", member_id=member.pk)
