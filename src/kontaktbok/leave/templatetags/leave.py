from typing import Any

from django import template

from kontaktbok.leave import selectors

register = template.Library()


@register.simple_tag
def is_leave_staff(user: Any) -> bool:
    """Contact teachers, kontor and leiing have a queue of leave applications."""
    return selectors.is_leave_staff(user)
