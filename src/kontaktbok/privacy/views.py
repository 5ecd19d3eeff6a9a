"""My data: ask for a copy of everything kontaktbok stores about oneself and one's
children, and download it during its week. Staff use the same page for their own data."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kontaktbok.core import clock
from kontaktbok.core.ratelimit import limit
from kontaktbok.privacy import selectors, services
from kontaktbok.privacy.models import OFFERED_FOR


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    rows = selectors.export_rows(actor=request.user)
    context = {
        "rows": rows,
        "queued": any(row.export.status == row.export.Status.QUEUED for row in rows),
        "offered_days": OFFERED_FOR.days,
    }
    return render(request, "privacy/home.html", context)


@login_required
@require_POST
@limit("privacy.export")
def request_export(request: HttpRequest) -> HttpResponse:
    _export, new = services.export_request(actor=request.user)
    if new:
        messages.success(
            request,
            _("We are making the copy of your data. You will be told when it is ready."),
        )
    else:
        messages.info(
            request, _("Your copy is already being made. You will be told when it is ready.")
        )
    return redirect("privacy_home")


@never_cache
@login_required
@require_GET
def download(request: HttpRequest, export_id: int) -> HttpResponse:
    """The owner's ZIP while it is offered; 410 after its week; 404 for anyone else."""
    try:
        export, content = services.export_download(actor=request.user, export_id=export_id)
    except services.ExportGone:
        return render(request, "privacy/gone.html", status=410)
    made = (export.ready_at or clock.now()).astimezone(clock.SCHOOL_TZ)
    response = HttpResponse(content, content_type="application/zip")
    filename = f"kontaktbok-mine-data-{made:%Y-%m-%d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Content-Length"] = str(len(content))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
