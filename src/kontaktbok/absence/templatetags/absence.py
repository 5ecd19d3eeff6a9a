from typing import Any

from django import template

from kontaktbok.absence import rules
from kontaktbok.schools.models import Group

register = template.Library()


@register.simple_tag
def may_check(user: Any, group: Group) -> bool:
    """Whether ``user`` marks ``group``'s day checked and sees its statistics (the class
    team, kontor and leiing): the pages offer those actions to them only."""
    return rules.may_check(user, group)
