"""ID-porten and Feide as allauth OpenID Connect apps, read from ``KONTAKTBOK_IDPORTEN_*``
and ``KONTAKTBOK_FEIDE_*``. Imported by the settings module: nothing here touches Django."""

from collections.abc import Callable

IDPORTEN = "idporten"
FEIDE = "feide"

# ID-porten's levels of assurance, lowest first; eIDAS high counts as high.
IDPORTEN_LEVELS = {
    "idporten-loa-low": 1,
    "idporten-loa-substantial": 2,
    "idporten-loa-high": 3,
    "eidas-loa-high": 3,
}
# What Feide returns (and is asked for) when the person used a second factor.
FEIDE_MFA_ACR = "urn:mace:feide.no:auth:level:fad08:3"


def national_apps(env: Callable[[str, str], str]) -> list[dict]:
    """allauth ``APPS`` for each national login whose issuer and client id are set."""
    apps = []
    for kind, name, default_scope in (
        (IDPORTEN, "ID-porten", "openid profile"),
        (FEIDE, "Feide", "openid profile email userid-feide"),
    ):
        prefix = kind.upper()
        issuer = env(f"{prefix}_ISSUER", "").rstrip("/")
        client_id = env(f"{prefix}_CLIENT_ID", "")
        if not issuer or not client_id:
            continue
        auth_method = env(f"{prefix}_TOKEN_AUTH_METHOD", "client_secret_post")
        if auth_method not in {"client_secret_post", "private_key_jwt"}:
            raise RuntimeError(
                f"KONTAKTBOK_{prefix}_TOKEN_AUTH_METHOD must be client_secret_post or "
                "private_key_jwt"
            )
        key_file = env(f"{prefix}_KEY_FILE", "")
        if auth_method == "private_key_jwt" and not key_file:
            raise RuntimeError(f"private_key_jwt needs KONTAKTBOK_{prefix}_KEY_FILE")
        if kind == IDPORTEN:
            acr_values = env("IDPORTEN_ACR", "idporten-loa-substantial")
            if acr_values not in IDPORTEN_LEVELS:
                raise RuntimeError("KONTAKTBOK_IDPORTEN_ACR must be an ID-porten level")
        else:
            acr_values = env("FEIDE_ACR", "")
        settings: dict = {
            "kind": kind,
            "server_url": issuer,
            "token_auth_method": auth_method,
            "key_file": key_file,
            "key_id": env(f"{prefix}_KEY_ID", ""),
            "oauth_pkce_enabled": True,
            "fetch_userinfo": kind == FEIDE,
            "scope": env(f"{prefix}_SCOPES", default_scope).split(),
            "auth_params": {"acr_values": acr_values} if acr_values else {},
            "frontchannel_logout": True,
        }
        apps.append(
            {
                "provider_id": kind,
                "name": name,
                "client_id": client_id,
                "secret": env(f"{prefix}_CLIENT_SECRET", ""),
                "settings": settings,
            }
        )
    return apps
