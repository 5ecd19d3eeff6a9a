from typing import Any

from django.http import HttpRequest

from kontaktbok.notifications.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the header (one query, only for signed-in users)."""
    return {"unread_notifications": unread_count(actor=request.user)}
