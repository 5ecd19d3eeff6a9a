"""Pages of the staff directory: a child's contacts for the guardian, the school's directory
for staff, and the school admin's form for one entry."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kontaktbok.directory import selectors, services
from kontaktbok.directory.forms import DirectoryEntryForm


@login_required
def child_contacts(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """The guardian's contacts for one of their own children, with call links."""
    found = selectors.child_contacts(actor=request.user, pupil_id=pupil_id)
    return render(request, "directory/child_contacts.html", {"found": found})


@login_required
def school_directory(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's directory for its staff; the school admin changes entries from here."""
    directory = selectors.school_directory(actor=request.user, school_id=school_id)
    return render(request, "directory/school_directory.html", {"directory": directory})


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, school_id: int, member_id: int) -> HttpResponse:
    """The school admin changes one entry; a refused value keeps everything typed."""
    member = selectors.editable_member(actor=request.user, school_id=school_id, member_id=member_id)
    contact = selectors.member_contact(member)
    initial = {
        "work_phone": contact.work_phone,
        "teams_address": contact.teams_address,
        "office_hours": contact.office_hours,
        "listed": contact.listed,
        "grade_from": contact.grade_from,
        "grade_to": contact.grade_to,
    }
    form = DirectoryEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.directory_entry_update(
                actor=request.user, member=member, data=form.cleaned_data
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                form.add_error(None, exc)
            for name, errors in getattr(exc, "error_dict", {}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("The directory entry for %(name)s was saved.") % {"name": contact.name},
            )
            return redirect("directory_school", school_id=member.school_id)
    return render(
        request,
        "directory/entry_form.html",
        {"school": member.school, "contact": contact, "form": form},
        status=400 if form.errors else 200,
    )
