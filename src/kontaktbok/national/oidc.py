"""allauth's OpenID Connect provider, closed where ID-porten needs more than it does:
PKCE (S256) always, a nonce per login kept with the state, the authorize parameters and
scopes set by the server only (a login URL cannot lower ``acr_values``), the language
passed on, and ``private_key_jwt`` client authentication. The checks after the token
(nonce, ``acr``, ``pid``, who the person is) are in ``adapter.py``."""

import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest
from django.utils import translation

from kontaktbok.national.conf import FEIDE, FEIDE_MFA_ACR

NONCE = "kb_nonce"
# The raw id_token of a login, kept on the SocialLogin for the logout's id_token_hint.
RAW_ID_TOKEN = "_kb_raw_id_token"  # noqa: S105 - an attribute name
# ID-porten's languages; anything else falls back to Norwegian Bokmål there.
UI_LOCALES = {"nb": "nb", "nn": "nn", "en": "en", "se": "se"}


def client_assertion(*, client_id: str, audience: str, key_file: str, key_id: str) -> str:
    """A signed JWT proving the client (``private_key_jwt``, RFC 7523), short-lived."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, Path(key_file).read_text(), algorithm="RS256", headers=headers)


class NationalOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    def get_access_token_data(
        self, request: HttpRequest, app: Any, client: Any, pkce_code_verifier: Any = None
    ) -> Any:
        from allauth.utils import get_request_param

        extra = None
        if app.settings.get("token_auth_method") == "private_key_jwt":
            extra = {
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion(
                    client_id=app.client_id,
                    audience=self.openid_config["issuer"],
                    key_file=app.settings["key_file"],
                    key_id=app.settings.get("key_id", ""),
                ),
            }
        code = get_request_param(self.request, "code")
        data = client.get_access_token(
            code, pkce_code_verifier=pkce_code_verifier, extra_data=extra
        )
        self.did_fetch_access_token = True
        return data

    def complete_login(self, request: HttpRequest, app: Any, token: Any, **kwargs: Any) -> Any:
        login = super().complete_login(request, app, token, **kwargs)
        setattr(login, RAW_ID_TOKEN, kwargs["response"].get("id_token", ""))
        return login


class NationalProvider(OpenIDConnectProvider):
    """Registered in place of allauth's ``openid_connect`` (``provider_class``)."""

    package = "kontaktbok.national.openid"
    oauth2_adapter_class = NationalOAuth2Adapter

    def get_pkce_params(self) -> dict:
        return generate_code_challenge()  # always, S256

    def get_auth_params_from_request(self, request: HttpRequest, action: Any) -> dict:
        params = self.get_auth_params()
        # Staff may ask Feide for the multi-factor level: only ever a higher level.
        if self.app.provider_id == FEIDE and request.GET.get("mfa") == "1":
            params["acr_values"] = FEIDE_MFA_ACR
        return params

    def get_scope_from_request(self, request: HttpRequest) -> list[str]:
        return self.get_scope()

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: Any = None,
        data: Any = None,
        **kwargs: Any,
    ) -> Any:
        nonce = secrets.token_urlsafe(32)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        language = UI_LOCALES.get(translation.get_language() or "")
        if language:
            auth_params["ui_locales"] = language
        kwargs["auth_params"] = auth_params
        kwargs.setdefault("scope", self.get_scope())
        kwargs[NONCE] = nonce
        return super().redirect(request, process, next_url, data, **kwargs)


provider_classes: list[type] = []
