from typing import Any

from django import template

from kontaktbok.leave import selectors

register = template.Library()


@register.simple_tag
def is_leave_staff(user: Any) -> bool:
    """Contact teachers, kontor and leiing have a queue of leave applications."""
    return selectors.is_leave_staff(user)


@register.filter
def to_send_on(application: Any) -> bool:
    """An upheld appeal whose case the decider has not recorded as sent on yet."""
    return selectors.to_send_on(application)
