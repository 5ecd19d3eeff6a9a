"""The municipality's school calendar (skolerute): set once a year for all its schools, and
taken by each school when it turns its year."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kontaktbok.core.audit import audit_log
from kontaktbok.schools.models import MunicipalCalendar, Municipality


def municipal_calendar_set(
    *,
    actor: Any,
    municipality: Municipality,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    holidays: list[tuple[str, dt.date, dt.date]],
) -> MunicipalCalendar:
    """Set (or replace) the municipality's calendar for the school year ``name``. The
    operator runs this from ``kontaktbok school_calendar``; schools that have turned their
    year already keep the calendar they took."""
    if starts_on >= ends_on:
        raise ValidationError(_("The first school day must come before the last."))
    for holiday, start, end in holidays:
        if start > end:
            raise ValidationError(_("%(name)s ends before it begins.") % {"name": holiday})
        if start < starts_on or end > ends_on:
            raise ValidationError(_("A holiday must lie within the school year."))
    with transaction.atomic():
        calendar, created = MunicipalCalendar.objects.update_or_create(
            municipality=municipality,
            name=name,
            defaults={
                "starts_on": starts_on,
                "ends_on": ends_on,
                "holidays": [
                    [holiday, start.isoformat(), end.isoformat()]
                    for holiday, start, end in sorted(holidays, key=lambda h: h[1])
                ],
            },
        )
        audit_log(
            actor=actor,
            action="schools.municipal_calendar." + ("created" if created else "changed"),
            obj=calendar,
            detail={"name": name, "holidays": len(holidays)},
        )
    return calendar


def municipal_calendar_after(municipality_id: int, day: dt.date) -> MunicipalCalendar | None:
    """The municipality's first calendar for a year beginning after ``day``."""
    return (
        MunicipalCalendar.objects.filter(municipality_id=municipality_id, starts_on__gt=day)
        .order_by("starts_on")
        .first()
    )
