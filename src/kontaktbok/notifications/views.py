"""In-app notifications, the user's notification settings and push, and for the school
admin: failed deliveries and the demo's sink of e-mail and SMS."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontaktbok.core import clock
from kontaktbok.core.ratelimit import limit
from kontaktbok.notifications import kinds, selectors, services, vapid
from kontaktbok.notifications.forms import PushSubscriptionForm
from kontaktbok.notifications.models import Channel
from kontaktbok.schools.selectors import schools_administered


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_notifications(actor=request.user), 30).get_page(
        request.GET.get("page")
    )
    partial = request.headers.get("HX-Request") == "true"
    template = "notifications/inbox_list.html" if partial else "notifications/inbox.html"
    return render(request, template, {"page": page})


@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark it read and go to the page it is about."""
    notification = selectors.get_my_notification(
        actor=request.user, notification_id=notification_id
    )
    services.notification_mark_read(actor=request.user, notification=notification)
    target = notification.url or reverse("notification_inbox")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("notification_inbox")
    return redirect(target)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(actor=request.user)
    return redirect("notification_inbox")


@login_required
def unread_badge(request: HttpRequest) -> HttpResponse:
    return render(
        request, "notifications/badge.html", {"unread": selectors.unread_count(actor=request.user)}
    )


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Channels per kind, the daily digest, and push on this device."""
    rows = selectors.preference_rows(actor=request.user)
    if request.method == "POST":
        choices = {
            row["kind"].code: {
                c for c in Channel.values if request.POST.get(f"{row['kind'].code}:{c}")
            }
            for row in rows
            if not row["kind"].urgent
        }
        services.preferences_save(
            actor=request.user, choices=choices, digest=bool(request.POST.get("digest"))
        )
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notification_settings")
    return render(
        request,
        "notifications/settings.html",
        {
            "rows": rows,
            "channels": Channel.choices,
            "digest": selectors.digest_enabled(actor=request.user),
            "vapid_public_key": vapid.public_key(),
            "has_phone": bool(getattr(request.user, "phone", "")),
        },
    )


@login_required
@require_POST
@limit("push.subscribe", as_json=True)
def push_subscribe(request: HttpRequest) -> JsonResponse:
    form = PushSubscriptionForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.errors}, status=400)
    try:
        services.push_subscription_save(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return JsonResponse({"ok": False, "errors": {"endpoint": exc.messages}}, status=400)
    return JsonResponse({"ok": True})


@login_required
@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    removed = services.push_subscription_delete(
        actor=request.user, endpoint=request.POST.get("endpoint", "")
    )
    return JsonResponse({"ok": removed})


@login_required
@require_POST
def send_test(request: HttpRequest) -> HttpResponse:
    """Send oneself a test notification (at most one a minute)."""
    services.notify(
        recipient=request.user,
        kind=kinds.TEST.code,
        url=reverse("notification_settings"),
        dedup_key=f"test:{clock.now():%Y-%m-%dT%H:%M}",
    )
    messages.success(request, _("A test notification is on its way."))
    return redirect("notification_settings")


def _admin_school_ids(request: HttpRequest) -> list[int]:
    ids = list(schools_administered(actor=request.user).values_list("pk", flat=True))
    if not ids:
        raise Http404
    return ids


@login_required
def failed(request: HttpRequest) -> HttpResponse:
    """The school admin sees notifications that could not be delivered, with the reason."""
    rows = selectors.failed_deliveries(school_ids=_admin_school_ids(request))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/failed.html", {"page": page})


@login_required
def sink(request: HttpRequest) -> HttpResponse:
    """What the school 'sent' by e-mail and SMS while no real gateway is set (the demo only)."""
    if not settings.DEMO:
        raise Http404
    rows = selectors.sink_messages(school_ids=_admin_school_ids(request))
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(request, "notifications/sink.html", {"page": page})
