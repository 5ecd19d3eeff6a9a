"""The pages' Content Security Policy lets forms go on to ID-porten and Feide: the login
button's POST is answered with a redirect to the provider's authorize endpoint, and the
logout's with one to its end-session endpoint, and browsers hold such redirects to
``form-action``. The origins come from the providers' discovery documents, kept an hour."""

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kontaktbok.national import services

KEEP_SECONDS = 3600
_lock = threading.Lock()
_cache: dict[tuple[str, ...], tuple[float, list[str]]] = {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def provider_origins() -> list[str]:
    issuers = tuple(app["settings"]["server_url"] for app in services.configured())
    if not issuers:
        return []
    with _lock:
        kept = _cache.get(issuers)
        if kept and time.monotonic() - kept[0] < KEEP_SECONDS:
            return kept[1]
    origins = {_origin(issuer) for issuer in issuers}
    for issuer in issuers:
        try:
            config = requests.get(
                f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=5
            ).json()
        except (requests.RequestException, ValueError):
            continue
        for key in ("authorization_endpoint", "end_session_endpoint"):
            if isinstance(config.get(key), str):
                origins.add(_origin(config[key]))
    result = sorted(origins)
    with _lock:
        _cache[issuers] = (time.monotonic(), result)
    return result


class ProviderFormActionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if hasattr(response, "_csp_config") or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            return response
        origins = provider_origins()
        if origins:
            config: dict[str, Any] = dict(settings.SECURE_CSP)
            config["form-action"] = [*list(config.get("form-action", [])), *origins]
            response._csp_config = config  # type: ignore[attr-defined]
        return response
