"""National login sessions: kept at login, ended by logout from kontaktbok or from the
provider (front- and back-channel, by ``sid``)."""

import time
from collections.abc import Callable
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.national import crypto
from kontaktbok.national.models import NationalSession

# Set by a national login before the local login completes (a second factor may follow).
PENDING = "kb_national_pending"
# The national login of this session: provider, sid and the sealed id_token.
ACTIVE = "kb_national"
PENDING_SECONDS = 600
# A valid ID-porten login of a person who is no guardian: kept (sealed) a few minutes so
# they may go on as a citizen (``citizen_login``).
CITIZEN = "kb_national_citizen"
CITIZEN_SECONDS = 300
# Where a valid ID-porten login of a person with no account here goes on (instead of the
# not-registered page), with the login kept as for a citizen: set by a page that asked for
# the login, such as a relay log's join link.
FOLLOW = "kb_national_follow"
# Who, besides a guardian, may log in with ID-porten: checks the feature apps register
# (``allow_login``), so that this app never imports them.
_LOGIN_CHECKS: list[Callable[[Any], bool]] = []


def allow_login(check: Callable[[Any], bool]) -> None:
    """Let an account that is no guardian log in with ID-porten when ``check(user)``
    holds (a person taking part in a relay log, say)."""
    if check not in _LOGIN_CHECKS:
        _LOGIN_CHECKS.append(check)


def may_log_in(user: Any) -> bool:
    """Whether a feature app lets this account (no guardian) log in with ID-porten."""
    return any(check(user) for check in _LOGIN_CHECKS)


def follow_after_login(request: HttpRequest, url: str) -> None:
    """After the next ID-porten login of a person with no account here, go on to ``url``
    (a path of this site) with the login kept (``citizen_offered``)."""
    request.session[FOLLOW] = {"url": url, "at": int(time.time())}


def follow_taken(request: HttpRequest) -> str:
    """The URL set by ``follow_after_login`` (used once), or "" when none or too old."""
    follow = request.session.pop(FOLLOW, None)
    if not follow or time.time() - follow.get("at", 0) > PENDING_SECONDS:
        return ""
    url = str(follow.get("url") or "")
    return url if url.startswith("/") and not url.startswith("//") else ""


def login_begin(
    request: HttpRequest,
    *,
    user: Any,
    provider: str,
    sid: str,
    id_token: str,
    acr: str,
    mfa: bool,
    pid: str = "",
) -> None:
    """What the local login keeps once it completes (``signals.py``)."""
    request.session[PENDING] = {
        "user": user.pk,
        "provider": provider,
        "sid": sid,
        "id_token": crypto.seal(id_token) if id_token else "",
        "acr": acr,
        "mfa": mfa,
        "pid": crypto.seal(pid) if pid else "",
        "at": int(time.time()),
    }


def pending_for(request: HttpRequest, user: Any) -> dict | None:
    pending = request.session.get(PENDING)
    if (
        not pending
        or pending.get("user") != user.pk
        or time.time() - pending.get("at", 0) > PENDING_SECONDS
    ):
        return None
    return pending


def login_completed(request: HttpRequest, user: Any) -> None:
    """The local login after a national one: remember the provider session (``sid``)."""
    pending = pending_for(request, user)
    request.session.pop(PENDING, None)
    if pending is None:
        request.session.pop(ACTIVE, None)
        return
    if pending["provider"] == "idporten":
        _offer_passkey(request, user)
    request.session[ACTIVE] = {
        "provider": pending["provider"],
        "sid": pending["sid"],
        "id_token": pending["id_token"],
        "pid": pending.get("pid", ""),
    }
    if not request.session.session_key:
        request.session.save()
    with transaction.atomic():
        if pending["sid"]:
            NationalSession.objects.update_or_create(
                session_key=request.session.session_key,
                defaults={
                    "provider": pending["provider"],
                    "sid": pending["sid"],
                    "user": user,
                    "created_at": clock.now(),
                },
            )
        audit_log(
            actor=user,
            action="accounts.national_login",
            obj=user,
            detail={"provider": pending["provider"], "acr": pending["acr"]},
        )


def session_pid(request: HttpRequest) -> str:
    """The identity number ID-porten gave for this session's login, or ""."""
    active = request.session.get(ACTIVE) or {}
    if active.get("provider") != "idporten" or not active.get("pid"):
        return ""
    try:
        return crypto.unseal(active["pid"])
    except Exception:
        return ""


def citizen_offer(
    request: HttpRequest, *, pid: str, name: str, sid: str, id_token: str, acr: str
) -> None:
    """Keep a valid ID-porten login of a person who is no guardian, sealed, for a few
    minutes: they may go on to the parts open to any citizen."""
    request.session[CITIZEN] = {
        "pid": crypto.seal(pid),
        "name": crypto.seal(name) if name else "",
        "sid": sid,
        "id_token": crypto.seal(id_token) if id_token else "",
        "acr": acr,
        "at": int(time.time()),
    }


def citizen_offered(request: HttpRequest) -> dict | None:
    """The kept login (pid, name and id_token unsealed), or None when none or too old."""
    offer = request.session.get(CITIZEN)
    if not offer or time.time() - offer.get("at", 0) > CITIZEN_SECONDS:
        return None
    try:
        return {
            **offer,
            "pid": crypto.unseal(offer["pid"]),
            "name": crypto.unseal(offer["name"]) if offer.get("name") else "",
            "id_token": crypto.unseal(offer["id_token"]) if offer.get("id_token") else "",
        }
    except Exception:
        return None


def _by_digest(digest: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.select_for_update().filter(nin_digest=digest).first()


def is_citizen_account(user: Any) -> bool:
    """An active account that is no staff: one a citizen's ID-porten login may use."""
    from kontaktbok.schools.models import StaffMember

    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and not StaffMember.objects.filter(user=user).exists()
    )


def citizen_account(*, pid: str, name: str) -> Any:
    """The citizen account of this identity number: found by its digest or created with
    no e-mail, no password and no role. None when the number belongs to staff. Two first
    logins of the same person at once make one account: the second takes the first's."""
    from django.contrib.auth import get_user_model

    from kontaktbok.schools.identity import nin_digest

    digest = nin_digest(pid)
    with transaction.atomic():
        user = _by_digest(digest)
        if user is None:
            try:
                with transaction.atomic():  # a savepoint: a lost race leaves the rest usable
                    user = get_user_model()(email=None, full_name=name[:200])
                    user.nin_digest = digest
                    user.set_unusable_password()
                    user.save(force_insert=True)
                    audit_log(actor=user, action="accounts.citizen_created", obj=user, detail={})
                    return user
            except IntegrityError:
                user = _by_digest(digest)  # the account the other request made
                if user is None:
                    raise
        return user if is_citizen_account(user) else None


def offer_log_in(
    request: HttpRequest, *, user: Any, offer: dict, redirect_url: str
) -> HttpResponse:
    """Log ``user`` in with the ID-porten login kept by ``citizen_offer`` (the same
    ``sid``, logout and idle time as any ID-porten login); the offer is used up."""
    from allauth.account.adapter import get_adapter as get_account_adapter
    from allauth.account.internal.flows.login import record_authentication
    from allauth.account.utils import perform_login

    request.session.pop(CITIZEN, None)
    if request.user.is_authenticated:
        get_account_adapter(request).logout(request)
    record_authentication(request, user, "socialaccount", provider="idporten")
    record_authentication(request, user, "mfa", type="idporten")
    login_begin(
        request,
        user=user,
        provider="idporten",
        sid=offer["sid"],
        id_token=offer["id_token"],
        acr=offer["acr"],
        mfa=True,
        pid=offer["pid"],
    )
    return perform_login(request, user, redirect_url=redirect_url)


def sessions_end(*, provider: str, sid: str) -> int:
    """End every local session started by the provider session ``sid``."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = list(NationalSession.objects.filter(provider=provider, sid=sid))
    for row in rows:
        store(session_key=row.session_key).delete()
    NationalSession.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


def end_session_url(active: dict, *, end_session_endpoint: str, state: str) -> str:
    """The provider's end-session URL with the id_token of this login as hint."""
    params = {"post_logout_redirect_uri": settings.SITE_URL.rstrip("/") + "/", "state": state}
    if active.get("id_token"):
        params["id_token_hint"] = crypto.unseal(active["id_token"])
    return f"{end_session_endpoint}?{urlencode(params)}"


def configured() -> list[dict]:
    """The national logins set up here (allauth's apps), ID-porten first."""
    providers: dict[str, Any] = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {})
    apps: list[dict] = list(providers.get("APPS", []))
    return sorted(apps, key=lambda app: app["provider_id"] != "idporten")


def provider_of(request: HttpRequest, kind: str) -> Any:
    from allauth.socialaccount.adapter import get_adapter

    return get_adapter(request).get_provider(request, kind)


def logout_redirect(request: HttpRequest, active: dict) -> str | None:
    """Where a logout goes to end the provider's session too, or None (no endpoint)."""
    import secrets

    try:
        provider = provider_of(request, active["provider"])
        config = provider.get_oauth2_adapter(request).openid_config
    except Exception:
        return None
    endpoint = config.get("end_session_endpoint")
    if not endpoint:
        return None
    return end_session_url(active, end_session_endpoint=endpoint, state=secrets.token_urlsafe(16))


def session_forget(session_key: str | None) -> None:
    if session_key:
        NationalSession.objects.filter(session_key=session_key).delete()


def _offer_passkey(request: HttpRequest, user: Any) -> None:
    """After ID-porten: a guardian may add a passkey on this device to come back without
    a new ID-porten round (unless the municipality has turned passkey login off)."""
    from allauth.mfa.models import Authenticator
    from django.contrib import messages
    from django.urls import reverse
    from django.utils.html import format_html
    from django.utils.translation import gettext as _

    if not (settings.PASSKEY_LOGIN and settings.MFA_PASSKEY_LOGIN_ENABLED):
        return
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).exists():
        return
    messages.info(
        request,
        format_html(
            '{} <a class="ds-link" href="{}">{}</a>',
            _("Next time you can log in on this device with a passkey instead of ID-porten."),
            reverse("mfa_add_webauthn"),
            _("Add a passkey"),
        ),
    )


def ended_sessions_forget() -> int:
    """Forget the sid of every local session that no longer exists."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    gone = [
        row.pk
        for row in NationalSession.objects.only("pk", "session_key").iterator()
        if not store().exists(row.session_key)
    ]
    deleted, _ = NationalSession.objects.filter(pk__in=gone).delete()
    return deleted
