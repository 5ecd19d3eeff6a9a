"""Password login by e-mail, with an address that is really the user's."""

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.models import EmailAddress


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
            if owns(user, email) and self._check_password(user, password):
                return user
        return None
