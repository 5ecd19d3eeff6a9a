"""Dates as each language writes them (a built-in filter, no ``{% load %}`` needed)."""

from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import translation

register = template.Library()


@register.filter(expects_localtime=True)
def longdate(value: Any, fmt: str) -> str:
    """Django's ``date``, written with the Norwegian day number ("måndag 30. november");
    English has no dot after the day ("Monday 30 November")."""
    if translation.get_language() == "en":
        fmt = fmt.replace("j.", "j")
    return date_filter(value, fmt)
