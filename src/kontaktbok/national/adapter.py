"""After ID-porten or Feide has answered: check what allauth does not (nonce, ``acr``,
``pid``), find the person in kontaktbok, and log them in, or refuse with a clear page.

Nothing of the login is stored on a social account: the person is found by the keyed
digest of their identity number (guardians) or their Feide id (staff), and the ``pid`` is
never kept or logged in clear."""

import logging
import secrets
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import perform_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kontaktbok.accounts.middleware import needs_second_factor
from kontaktbok.national import services
from kontaktbok.national.conf import FEIDE, FEIDE_MFA_ACR, IDPORTEN, IDPORTEN_LEVELS
from kontaktbok.national.oidc import NONCE, RAW_ID_TOKEN
from kontaktbok.schools.access import guardian_pupils
from kontaktbok.schools.identity import nin_digest
from kontaktbok.schools.models import StaffMember

logger = logging.getLogger(__name__)

# Where Feide puts the person's Feide id (eduPersonPrincipalName), first found wins.
FEIDE_ID_CLAIMS = (
    "https://n.feide.no/claims/eduPersonPrincipalName",
    "eduPersonPrincipalName",
    "feideid",
)


def _refuse(request: HttpRequest, code: str, message: str, **context: Any) -> ImmediateHttpResponse:
    logger.warning("national login refused: %s", code)  # never the claims themselves
    response = render(
        request, "national/refused.html", {"message": message, "code": code, **context}, status=403
    )
    return ImmediateHttpResponse(response)


def idporten_level_ok(acr: str, required: str) -> bool:
    return IDPORTEN_LEVELS.get(acr, 0) >= IDPORTEN_LEVELS[required]


def idporten_name(claims: dict) -> str:
    """The person's name, when ID-porten gave one (it usually does not)."""
    name = str(claims.get("name") or "").strip()
    if not name:
        parts = (claims.get("given_name"), claims.get("family_name"))
        name = " ".join(str(p).strip() for p in parts if p)
    return name


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A missing or replayed state, a bad token (audience, issuer, expiry), a refusal
        at the provider: one clear page, the cause in the log only."""
        code = type(exception).__name__ if exception else str(error or "error")
        raise _refuse(
            request,
            f"authentication error: {code}",
            _("The login could not be completed. Start again from the login page."),
        )

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        provider = sociallogin.account.get_provider()
        kind = provider.app.settings.get("kind") or provider.app.provider_id
        data = sociallogin.account.extra_data
        claims = data.get("id_token") or {}
        userinfo = data.get("userinfo") or {}
        expected = sociallogin.state.get(NONCE) or ""
        if not expected or not secrets.compare_digest(str(claims.get("nonce", "")), expected):
            raise _refuse(
                request,
                "nonce",
                _("The login could not be completed. Start again from the login page."),
            )
        acr = str(claims.get("acr", ""))
        if kind == IDPORTEN:
            user, mfa = self._idporten_user(
                request, claims, acr, id_token=getattr(sociallogin, RAW_ID_TOKEN, "")
            )
        elif kind == FEIDE:
            user, mfa = self._feide_user(request, claims, userinfo, acr)
        else:
            raise _refuse(request, "provider", _("This login is not in use here."))
        if request.user.is_authenticated:
            get_account_adapter(request).logout(request)
        record_authentication(request, user, "socialaccount", provider=kind)
        if mfa:
            # ID-porten at substantial or high, and Feide's MFA level, are two factors.
            record_authentication(request, user, "mfa", type=kind)
        services.login_begin(
            request,
            user=user,
            provider=kind,
            sid=str(claims.get("sid", "")),
            id_token=getattr(sociallogin, RAW_ID_TOKEN, ""),
            acr=acr,
            mfa=mfa,
            pid=str(claims.get("pid") or "") if kind == IDPORTEN else "",
        )
        response = perform_login(request, user, redirect_url=sociallogin.get_redirect_url(request))
        raise ImmediateHttpResponse(response)

    def _idporten_user(
        self, request: HttpRequest, claims: dict, acr: str, *, id_token: str = ""
    ) -> tuple[Any, bool]:
        required = settings.IDPORTEN_ACR
        if not idporten_level_ok(acr, required):
            raise _refuse(
                request,
                "acr",
                _(
                    "This login was at too low a security level. Log in with ID-porten again "
                    "and choose MinID, BankID, Buypass or Commfides."
                ),
            )
        pid = str(claims.get("pid") or "")
        if not pid:
            raise _refuse(
                request,
                "pid",
                _(
                    "ID-porten did not give us your national identity number, so we cannot "
                    "find you. Contact the school office."
                ),
            )
        follow = services.follow_taken(request)
        try:
            digest = nin_digest(pid)
        except ValidationError:
            digest = ""
        user = (
            get_user_model().objects.filter(nin_digest=digest, is_active=True).first()
            if digest
            else None
        )
        if user is None or not (guardian_pupils(user).exists() or services.may_log_in(user)):
            logger.info("national login: no guardian for this person")
            if digest:
                # A valid login at the required level: they may go on as a citizen.
                services.citizen_offer(
                    request,
                    pid=pid,
                    name=idporten_name(claims),
                    sid=str(claims.get("sid", "")),
                    id_token=id_token,
                    acr=acr,
                )
                if follow:  # the page that asked for this login goes on with it
                    raise ImmediateHttpResponse(redirect(follow))
            response = render(
                request, "national/not_registered.html", {"citizen": bool(digest)}, status=403
            )
            raise ImmediateHttpResponse(response)
        return user, True

    def _feide_user(
        self, request: HttpRequest, claims: dict, userinfo: dict, acr: str
    ) -> tuple[Any, bool]:
        feide_id = ""
        for name in FEIDE_ID_CLAIMS:
            feide_id = str(userinfo.get(name) or claims.get(name) or "").strip().lower()
            if feide_id:
                break
        users = (
            {
                m.user
                for m in StaffMember.objects.filter(
                    feide_id__iexact=feide_id, user__is_active=True
                ).select_related("user")
            }
            if feide_id
            else set()
        )
        if len(users) != 1:
            logger.info("national login: no single staff member for this Feide id")
            response = render(request, "national/not_registered_staff.html", status=403)
            raise ImmediateHttpResponse(response)
        user = users.pop()
        mfa = acr == FEIDE_MFA_ACR
        if (
            needs_second_factor(user)
            and not mfa
            and not Authenticator.objects.filter(
                user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
            ).exists()
        ):
            raise _refuse(
                request,
                "feide-mfa",
                _(
                    "Your role at the school requires two-factor login. Log in with Feide "
                    "again and use its two-factor login."
                ),
                feide_mfa=True,
            )
        return user, mfa
