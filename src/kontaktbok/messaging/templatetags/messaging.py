from django import template

from kontaktbok.messaging.selectors import role_label

register = template.Library()


@register.filter
def role_name(role: str) -> str:
    """A participant's role in the user's language (guardian, contact teacher, ...)."""
    return role_label(role)
