"""Filters for the summary PDF, which is rendered from data.json's values."""

import datetime as dt

from django import template

register = template.Library()


@register.filter
def iso(value: str | None) -> str:
    """An ISO day ("2026-11-24") or moment ("2026-11-24T07:45:00+01:00") as 24.11.2026
    (07:45); empty for none."""
    if not value:
        return ""
    if "T" not in value:
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    return dt.datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M")


@register.filter
def label(words: dict[str, str], code: str) -> str:
    """The word for a code (a status, a kind), else the code itself."""
    return words.get(code, code) if code else ""
