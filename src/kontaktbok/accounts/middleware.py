"""Staff session time-outs, and multi-factor login required for leiing."""

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from kontaktbok.core.api import error_response
from kontaktbok.core.middleware import API_PREFIX
from kontaktbok.schools.access import roles_of
from kontaktbok.schools.models import StaffRole

AUTH_AT = "kontaktbok_auth_at"
SEEN_AT = "kontaktbok_seen_at"
# The last-seen time is written at most this often, to spare the session store.
SEEN_RESOLUTION = 60


def is_staff_session(user: Any) -> bool:
    return bool(user.is_staff or roles_of(user).is_staff_member)


class SessionTimeoutMiddleware:
    """Staff are logged out after an idle period and after an absolute session length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and is_staff_session(user):
            now = int(time.time())
            session = request.session
            # allauth records when the user logged in; fall back to the first request.
            records = session.get("account_authentication_methods") or [{}]
            auth_at = session.setdefault(AUTH_AT, int(records[0].get("at", now)))
            seen_at = session.get(SEEN_AT, auth_at)
            idle = now - seen_at > settings.STAFF_SESSION_IDLE_SECONDS
            expired = now - auth_at > settings.STAFF_SESSION_ABSOLUTE_SECONDS
            if idle or expired:
                logout(request)
                if request.path.startswith(API_PREFIX):
                    # An API client cannot follow a login page: 401 in the API's error shape.
                    return error_response(401, _("Your session has ended. Log in again."))
                messages.info(
                    request,
                    _("You were logged out after a period without activity. Please log in again."),
                )
                return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
            if now - seen_at >= SEEN_RESOLUTION or SEEN_AT not in session:
                session[SEEN_AT] = now
        return self.get_response(request)


MFA_EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/i18n/",
    "/manifest.webmanifest",
    "/service-worker.js",
)


class RequireMfaMiddleware:
    """Leiing must set up a second factor before they see anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and roles_of(user).schools_with(StaffRole.Role.LEADERSHIP)
            and not Authenticator.objects.filter(
                user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
            ).exists()
        ):
            messages.warning(
                request, _("Your role requires two-factor authentication. Set it up to continue.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
