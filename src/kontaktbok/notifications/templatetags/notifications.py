from django import template

from kontaktbok.notifications import kinds
from kontaktbok.notifications.models import Notification

register = template.Library()


@register.filter
def notification_title(notification: Notification) -> str:
    """The title in the language of the page being shown."""
    try:
        return str(kinds.get(notification.kind).title) % notification.payload
    except (ValueError, KeyError):
        return notification.kind


@register.filter
def notification_body(notification: Notification) -> str:
    try:
        return str(kinds.get(notification.kind).body) % notification.payload
    except (ValueError, KeyError):
        return ""
