"""Password login by e-mail, with an address that is really the user's."""

from collections.abc import Callable
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.models import EmailAddress

# Accounts that log in with ID-porten only, whatever password they may have got: checks
# the feature apps register (``id_porten_only``), so that this app never imports them.
_ID_PORTEN_ONLY: list[Callable[[Any], bool]] = []


def id_porten_only(check: Callable[[Any], bool]) -> None:
    """Refuse password login (and password reset) to accounts for which ``check`` holds."""
    if check not in _ID_PORTEN_ONLY:
        _ID_PORTEN_ONLY.append(check)


def must_use_id_porten(user: Any) -> bool:
    return any(check(user) for check in _ID_PORTEN_ONLY)


def owns(user: Any, email: str) -> bool:
    """The address the school registered for the user, or one they have confirmed."""
    if user.email and user.email.lower() == email.lower():
        return True
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


class VerifiedEmailBackend(AuthenticationBackend):
    """allauth's backend, but an address logs in only the user who owns it: an unconfirmed
    address anyone may add to their account (even another user's) is no way in, and does
    not keep that address's owner out."""

    def _authenticate_by_email(self, email: str, password: str) -> Any:
        if not email:
            return None
        for user in filter_users_by_email(email, prefer_verified=True, for_login=True):
            if (
                owns(user, email)
                and self._check_password(user, password)
                and not must_use_id_porten(user)
            ):
                return user
        return None
