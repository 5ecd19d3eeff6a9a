"""Whether the person passed a second factor in this session."""

from typing import Any

from allauth.account.internal.flows.login import get_authentication_records
from django.http import HttpRequest


def passed_mfa(request: HttpRequest) -> bool:
    """True when this session's login included a second factor: allauth keeps the methods
    used in the session (``tests/accounts/test_mfa.py`` holds it to that)."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, user))
