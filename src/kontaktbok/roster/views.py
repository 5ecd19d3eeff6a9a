"""The office imports the roster: upload, look at the preview, apply."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kontaktbok.core.forms import add_errors
from kontaktbok.roster import csv_format, selectors, services
from kontaktbok.roster import year_turn as turning
from kontaktbok.roster.forms import UploadForm


@login_required
@require_http_methods(["GET", "POST"])
def roster_home(request: HttpRequest, school_id: int) -> HttpResponse:
    school = selectors.roster_school(actor=request.user, school_id=school_id)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            item = services.roster_preview(
                actor=request.user, school=school, file_name=upload.name, data=upload.read()
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return redirect("roster_import", school_id=school.pk, import_id=item.pk)
    context = {
        "school": school,
        "form": form,
        "imports": selectors.recent_imports(school),
        "languages": csv_format.LANGUAGES,
    }
    return render(request, "roster/home.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def roster_template(request: HttpRequest, school_id: int, language: str) -> HttpResponse:
    selectors.roster_school(actor=request.user, school_id=school_id)
    if language not in csv_format.LANGUAGES:
        raise Http404
    response = HttpResponse(csv_format.template(language), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kontaktbok-roster-{language}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest, school_id: int, import_id: int) -> HttpResponse:
    item = selectors.roster_import(actor=request.user, school_id=school_id, import_id=import_id)
    if request.method == "POST":
        try:
            applied = services.roster_apply(actor=request.user, roster_import=item)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if applied:
                messages.success(request, _("The import is applied."))
            else:
                messages.warning(
                    request,
                    _("The school's people changed since the preview. Look again, then apply."),
                )
        return redirect("roster_import", school_id=school_id, import_id=item.pk)
    return render(request, "roster/import.html", {"item": item, "school": item.school})


@login_required
@require_http_methods(["GET", "POST"])
def year_turn(request: HttpRequest, school_id: int) -> HttpResponse:
    """Preview of the new school year, and the button that turns it."""
    school = selectors.roster_school(actor=request.user, school_id=school_id)
    if request.method == "POST":
        try:
            year = turning.year_turn_apply(actor=request.user, school=school)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The school year %(name)s is made. Give the staff their roles for it.")
                % {"name": year.name},
            )
            return redirect("staff_list", school_id=school.pk)
        return redirect("year_turn", school_id=school.pk)
    try:
        turn, refusal = turning.year_turn_plan(school), ""
    except ValidationError as error:
        turn, refusal = None, " ".join(error.messages)
    context = {"school": school, "turn": turn, "refusal": refusal}
    return render(request, "roster/year_turn.html", context)
