"""Staff session time-outs, and multi-factor login required for whole-school roles."""

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
# Set by a national login (kontaktbok.national.services.ACTIVE).
NATIONAL_SESSION = "kb_national"


def is_staff_session(user: Any) -> bool:
    return bool(user.is_staff or roles_of(user).is_staff_member)


class SessionTimeoutMiddleware:
    """Staff are logged out after an idle period and after an absolute session length;
    everyone who logged in with ID-porten or Feide after at most 30 minutes idle."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # A session begun with ID-porten or Feide ends after at most 30 minutes idle.
        national = user.is_authenticated and NATIONAL_SESSION in request.session
        staff = user.is_authenticated and is_staff_session(user)
        if staff or national:
            now = int(time.time())
            session = request.session
            # allauth records when the user logged in; fall back to the first request.
            records = session.get("account_authentication_methods") or [{}]
            auth_at = session.setdefault(AUTH_AT, int(records[0].get("at", now)))
            seen_at = session.get(SEEN_AT, auth_at)
            idle_limit = settings.STAFF_SESSION_IDLE_SECONDS if staff else None
            if national:
                idle_limit = min(
                    idle_limit or settings.NATIONAL_SESSION_IDLE_SECONDS,
                    settings.NATIONAL_SESSION_IDLE_SECONDS,
                )
            idle = now - seen_at > (idle_limit or 0)
            expired = staff and now - auth_at > settings.STAFF_SESSION_ABSOLUTE_SECONDS
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


# Roles that see or change what belongs to every family of the school.
SECOND_FACTOR_ROLES = (
    StaffRole.Role.OFFICE,
    StaffRole.Role.LEADERSHIP,
    StaffRole.Role.SCHOOL_ADMIN,
)


def needs_second_factor(user: Any) -> bool:
    """Superusers and every whole-school role (kontor, leiing, school admin)."""
    return bool(user.is_superuser or roles_of(user).schools_with(*SECOND_FACTOR_ROLES))


def passed_national_mfa(request: HttpRequest) -> bool:
    """This session began with a national login at a two-factor level (Feide's MFA level,
    ID-porten at substantial or high): that is the second factor."""
    records = request.session.get("account_authentication_methods") or []
    return NATIONAL_SESSION in request.session and any(
        r.get("method") == "mfa" and r.get("type") in {"idporten", "feide"} for r in records
    )


class RequireMfaMiddleware:
    """Kontor, leiing, school admins and superusers must set up a second factor before they
    see anything else (the Django admin included); the API answers them 403 until then.
    A session begun with Feide's MFA level (or ID-porten) has its second factor already."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and needs_second_factor(user)
            and not passed_national_mfa(request)
            and not Authenticator.objects.filter(
                user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
            ).exists()
        ):
            message = _("Your role requires two-factor authentication. Set it up to continue.")
            if request.path.startswith(API_PREFIX):
                return error_response(403, message)
            messages.warning(request, message)
            return redirect("mfa_activate_totp")
        return self.get_response(request)
