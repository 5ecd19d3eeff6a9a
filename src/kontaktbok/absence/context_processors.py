from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kontaktbok.absence.lookup.selectors import guardian_open_cases
from kontaktbok.schools import access


def _open_cases(user: Any) -> list:
    if not access.roles_of(user).is_guardian:
        return []
    return guardian_open_cases(actor=user)


def lookup(request: HttpRequest) -> dict[str, Any]:
    """A guardian's children being looked for now, for the banner at the top of every page.
    Read only when a page shows it (not by htmx fragments), and only for guardians: one
    query for them, none for staff whose roles the view has already read."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"lookup_cases": SimpleLazyObject(lambda: _open_cases(user))}
