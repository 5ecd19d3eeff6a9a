"""The archive deliveries page: by state, with the archive's reason, and re-send."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kontaktbok.archive import selectors, services
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
