"""The archive deliveries page: by state, with the archive's reason, and re-send."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontaktbok.archive import selectors, services
from kontaktbok.archive.forms import UnitForm
from kontaktbok.archive.models import ArchiveDelivery


@login_required
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    if not selectors.visible_units(request.user).exists():
        raise Http404
    counts = selectors.state_counts(request.user)
    state = request.GET.get("state", "")
    if state not in ArchiveDelivery.State.values:
        state = ""
    page = Paginator(selectors.visible_deliveries(request.user, state=state), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "archive/deliveries.html",
        {
            "page": page,
            "state": state,
            "states": [
                (value, label, counts.get(value, 0))
                for value, label in ArchiveDelivery.State.choices
            ],
        },
    )


@login_required
@require_POST
def resend(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.visible_deliveries(request.user), pk=delivery_id)
    try:
        services.delivery_resend(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The delivery is queued to be sent again."))
    return redirect("archive_deliveries")


@login_required
@require_http_methods(["GET", "POST"])
def units(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school admin sets up the units of her school that receive documents."""
    if school_id not in selectors.administered_school_ids(request.user):
        raise Http404
    school = selectors.school_of(school_id)
    staff = selectors.staff_users_of(school_id)
    form = UnitForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items()}
        services.unit_create(
            actor=request.user, municipality=school.municipality, school=school, **fields
        )
        messages.success(request, _("The unit is set up."))
        return redirect("archive_units", school_id=school_id)
    return render(
        request,
        "archive/units.html",
        {"school": school, "units": selectors.units_of_school(school_id), "form": form},
    )
