"""Logout started by ID-porten or Feide: the front-channel iframe (GET with ``iss`` and
``sid``) and the back-channel POST of a signed ``logout_token``. Both end every local
session that provider session started."""

import logging
import time
from typing import Any

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kontaktbok.national import services

logger = logging.getLogger(__name__)

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"}
# A logout_token older than this (or this far in the future) is refused.
LOGOUT_TOKEN_MAX_AGE = 300


def national_apps() -> list[dict]:
    return services.configured()


def provider_for(request: HttpRequest, issuer: str) -> tuple[str, Any, dict] | None:
    """(kind, provider, OpenID configuration) of the configured login with this issuer."""
    for app in national_apps():
        if app["settings"]["server_url"].rstrip("/") != issuer.rstrip("/"):
            continue
        provider = get_adapter(request).get_provider(request, app["provider_id"])
        config = provider.get_oauth2_adapter(request).openid_config
        if config.get("issuer") == issuer:
            return app["settings"]["kind"], provider, config
    return None


def _frame_ancestors() -> list[str]:
    """The providers' origins: their issuer, authorize and end-session hosts (ID-porten's
    logout iframe comes from its login host, not its issuer's)."""
    from kontaktbok.national.middleware import provider_origins

    return [CSP.SELF, *provider_origins()]


@never_cache
@xframe_options_exempt
@require_GET
def frontchannel_logout(request: HttpRequest) -> HttpResponse:
    """ID-porten loads this in an iframe (its own cookie may be missing): sessions are
    found by ``sid``. Only the providers' origins may frame it."""
    issuer, sid = request.GET.get("iss", ""), request.GET.get("sid", "")
    found = provider_for(request, issuer) if issuer and sid else None
    if found is None:
        response: HttpResponse = HttpResponseBadRequest("")
    else:
        services.sessions_end(provider=found[0], sid=sid)
        response = HttpResponse("", content_type="text/plain")
    response._csp_config = {  # type: ignore[attr-defined]
        **settings.SECURE_CSP,
        "frame-ancestors": _frame_ancestors(),
    }
    response["Content-Type"] = "text/plain"
    return response


def logout_token_claims(request: HttpRequest, token: str) -> tuple[str, dict] | None:
    """The checked claims of a back-channel ``logout_token`` (OpenID Connect Back-Channel
    Logout 1.0, 2.6), or None: signature by the issuer's key, ``iss``, ``aud``, ``iat``,
    ``jti`` (once only), the logout event, a ``sid``, and no ``nonce``."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    if header.get("alg") not in ALGORITHMS:
        return None
    found = provider_for(request, str(unverified.get("iss", "")))
    if found is None:
        return None
    kind, provider, config = found
    try:
        alg, key = jwtkit.fetch_key(token, config["jwks_uri"], jwtkit.lookup_kid_jwk)
        if alg not in ALGORITHMS:
            return None
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=provider.app.client_id,
            issuer=config["issuer"],
            options={"require": ["iss", "aud", "iat", "jti", "events"]},
            leeway=30,
        )
    except Exception:
        logger.warning("back-channel logout: token refused", exc_info=False)
        return None
    events = claims.get("events")
    if (
        not isinstance(events, dict)
        or BACKCHANNEL_EVENT not in events
        or "nonce" in claims
        or not claims.get("sid")
        or abs(time.time() - float(claims["iat"])) > LOGOUT_TOKEN_MAX_AGE
    ):
        return None
    if not cache.add(f"kb-logout-jti:{claims['iss']}:{claims['jti']}", 1, 2 * LOGOUT_TOKEN_MAX_AGE):
        return None  # replayed
    return kind, claims


@csrf_exempt
@never_cache
@require_POST
def backchannel_logout(request: HttpRequest) -> HttpResponse:
    checked = logout_token_claims(request, request.POST.get("logout_token", ""))
    if checked is None:
        return HttpResponseBadRequest("")
    kind, claims = checked
    services.sessions_end(provider=kind, sid=str(claims["sid"]))
    return HttpResponse("", content_type="text/plain")


@never_cache
@require_POST
def citizen_login(request: HttpRequest) -> HttpResponse:
    """Go on from the not-registered page as a citizen: the ID-porten login kept (sealed)
    for a few minutes logs in a citizen account (no role, no child) and leads to a secure
    submission."""
    offer = services.citizen_offered(request)
    request.session.pop(services.CITIZEN, None)
    user = services.citizen_account(pid=offer["pid"], name=offer["name"]) if offer else None
    if user is None:
        logger.warning("national login refused: citizen")
        return render(
            request,
            "national/refused.html",
            {
                "code": "citizen",
                "message": _("The login could not be completed. Start again from the login page."),
            },
            status=403,
        )
    assert offer is not None
    return services.offer_log_in(
        request, user=user, offer=offer, redirect_url=reverse("submission_new")
    )
