import datetime as dt

from django import template

register = template.Library()


@register.filter
def minutes_since(start: dt.datetime | None, end: dt.datetime | None) -> int:
    """Whole minutes from ``start`` to ``end`` (a case's age on the live overview)."""
    if start is None or end is None:
        return 0
    return max(0, int((end - start).total_seconds() // 60))


@register.filter
def still_open(cases: list) -> list:
    """The cases not yet closed, in the given order."""
    return [case for case in cases if case.is_open]


@register.filter
def closed_only(cases: list) -> list:
    return [case for case in cases if not case.is_open]
