"""The interface language: the user's own choice, else Nynorsk.

The browser's Accept-Language is not used: many Norwegian phones are set to English, and
the school's default (Nynorsk) must win until the user picks another language.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

SUPPORTED = {code for code, _ in settings.LANGUAGES}


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        user = getattr(request, "user", None)
        if language not in SUPPORTED and user is not None and user.is_authenticated:
            language = getattr(user, "language", "")
        if language not in SUPPORTED:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


# Browser features the app never uses, switched off for every page.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "serial",
        "hid",
        "bluetooth",
        "interest-cohort",
    )
)
API_PREFIX = "/api/"


class SecurityHeadersMiddleware:
    """Pages for a logged-in user and every API answer are never stored by a browser or a
    proxy (a shared computer at school, a proxy in front of the server); every answer
    switches off the browser features the app does not use. Static files are answered
    before this (WhiteNoise) and keep their caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if request.path.startswith(API_PREFIX) or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store, private"
        return response


# Longer addresses are refused by the web server in front (gunicorn: 4094 bytes).
MAX_API_URL_LENGTH = 4094


class BadInputMiddleware:
    """Refuses, before any view runs, what no field of the app can hold: a NUL character in
    the address, the query string or a plain form (PostgreSQL cannot store it). The API
    answers in its error shape, and so do its answers that Django or django-ninja make
    themselves (an unknown path, a method not allowed, a body too large)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from kontaktbok.core.api import error_response

        is_api = request.path.startswith(API_PREFIX)
        if is_api and len(request.get_full_path()) > MAX_API_URL_LENGTH:
            return error_response(414)
        if _has_nul(request):
            message = _("The request contained a character that is not allowed (NUL).")
            if is_api:
                return error_response(400, message, type_="bad_value")
            return render(request, "400.html", {"message": message}, status=400)
        response = self.get_response(request)
        if is_api and 400 <= response.status_code < 500 and not _is_json(response):
            shaped = error_response(response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    if _any_nul(request.GET):
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        return _any_nul(request.POST)
    return False


def _any_nul(data: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
