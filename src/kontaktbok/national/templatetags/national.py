from django import template
from django.conf import settings

from kontaktbok.national import services

register = template.Library()


@register.simple_tag
def national_logins() -> list[dict]:
    """The national logins set up here, ID-porten first: id, name and who it is for."""
    return [
        {"id": app["provider_id"], "name": app["name"], "kind": app["settings"]["kind"]}
        for app in services.configured()
    ]


@register.simple_tag
def password_login() -> bool:
    return bool(settings.PASSWORD_LOGIN)


@register.simple_tag
def passkey_login() -> bool:
    return bool(settings.PASSKEY_LOGIN and settings.MFA_PASSKEY_LOGIN_ENABLED)
