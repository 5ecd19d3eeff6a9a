"""The school year turns: the next year with the municipality's school calendar (or, when it
has set none, last year's calendar shape), next year's classes
(4A becomes 5A) with their pupils moved up, and the 10th graders leaving. Staff roles are
per year and are given anew; last year's roles lapse with last year's groups."""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.schools import access
from kontaktbok.schools.calendars import municipal_calendar_after
from kontaktbok.schools.models import Group, Pupil, School, SchoolYear
from kontaktbok.schools.selectors import current_school_year
from kontaktbok.schools.services import school_year_create

# 52 weeks: the same weekdays next year (a Monday start stays a Monday).
ONE_YEAR = dt.timedelta(weeks=52)
LAST_GRADE = 10


@dataclass(frozen=True)
class ClassStep:
    old_name: str
    new_name: str
    grade: int
    pupil_ids: tuple[int, ...]


@dataclass
class YearTurn:
    """What turning the year would do; computed afresh for the preview and the apply."""

    school: School
    current: SchoolYear
    name: str
    starts_on: dt.date
    ends_on: dt.date
    holidays: list[tuple[str, dt.date, dt.date]] = field(default_factory=list)
    classes: list[ClassStep] = field(default_factory=list)
    leaving: list[tuple[int, str, str]] = field(default_factory=list)  # pupil, name, class
    from_municipality: bool = False  # the calendar is the municipality's, not last year's

    @property
    def pupils_moving(self) -> int:
        return sum(len(step.pupil_ids) for step in self.classes)


def _next_name(year: SchoolYear) -> str:
    found = re.search(r"(\d{4})\D+(\d{4})", year.name)
    if found:
        return f"{int(found[1]) + 1}–{int(found[2]) + 1}"
    return f"{(year.starts_on + ONE_YEAR).year}–{(year.ends_on + ONE_YEAR).year}"


def _next_class_name(name: str, grade: int) -> str:
    """4A → 5A, 9-2 → 10-2; a name without its grade in it stays as it is."""
    return re.sub(rf"(?<!\d){grade}(?!\d)", str(grade + 1), name, count=1)


def year_turn_plan(school: School) -> YearTurn:
    """The turn from the school year now running to the next. Refused before the year has
    begun (the summer after a turn) and once the next year exists."""
    current = current_school_year(school)
    if current is None:
        raise ValidationError(_("The school has no school year to turn."))
    if current.starts_on > clock.today():
        raise ValidationError(
            _("The school year %(name)s has not begun yet.") % {"name": current.name}
        )
    if school.school_years.filter(starts_on__gt=current.starts_on).exists():
        raise ValidationError(_("The next school year is made already."))
    calendar = municipal_calendar_after(school.municipality_id, current.ends_on)
    if calendar is not None:
        turn = YearTurn(
            school=school,
            current=current,
            name=calendar.name,
            starts_on=calendar.starts_on,
            ends_on=calendar.ends_on,
            holidays=calendar.holiday_periods(),
            from_municipality=True,
        )
    else:
        turn = YearTurn(
            school=school,
            current=current,
            name=_next_name(current),
            starts_on=current.starts_on + ONE_YEAR,
            ends_on=current.ends_on + ONE_YEAR,
            holidays=[
                (h.name, h.starts_on + ONE_YEAR, h.ends_on + ONE_YEAR)
                for h in current.holidays.all()
            ],
        )
    classes = (
        Group.objects.filter(school_year=current, kind=Group.Kind.CLASS)
        .order_by("grade", "name")
        .prefetch_related("pupils")
    )
    for group in classes:
        pupils = [p for p in group.pupils.all() if p.left_on is None]
        if group.grade is None or group.grade >= LAST_GRADE:
            turn.leaving.extend((p.pk, p.full_name, group.name) for p in pupils)
            continue
        turn.classes.append(
            ClassStep(
                group.name,
                _next_class_name(group.name, group.grade),
                group.grade + 1,
                tuple(p.pk for p in pupils),
            )
        )
    return turn


def year_turn_apply(*, actor: Any, school: School) -> SchoolYear:
    """Turn the year, all or nothing: the next year and its holidays, the classes one grade
    up with their pupils, the 10th graders leaving on the last school day."""
    if not access.keeps_people(actor, school.pk):
        raise PermissionDenied
    with transaction.atomic():
        School.objects.select_for_update().get(pk=school.pk)
        turn = year_turn_plan(school)
        if SchoolYear.objects.filter(school=school, name=turn.name).exists():
            raise ValidationError(
                _("The school year %(name)s exists already.") % {"name": turn.name}
            )
        year = school_year_create(
            actor=actor,
            school=school,
            name=turn.name,
            starts_on=turn.starts_on,
            ends_on=turn.ends_on,
            holidays=turn.holidays,
        )
        groups = Group.objects.bulk_create(
            [
                Group(school=school, school_year=year, name=step.new_name, grade=step.grade)
                for step in turn.classes
            ]
        )
        through = Group.pupils.through
        through.objects.bulk_create(
            [
                through(group_id=group.pk, pupil_id=pupil_id)
                for step, group in zip(turn.classes, groups, strict=True)
                for pupil_id in step.pupil_ids
            ]
        )
        Pupil.objects.filter(pk__in=[pk for pk, _name, _class in turn.leaving]).update(
            left_on=turn.current.ends_on
        )
        audit_log(
            actor=actor,
            action="schools.school_year.turned",
            obj=year,
            school_id=school.pk,
            detail={
                "from": turn.current.name,
                "classes": len(turn.classes),
                "pupils_moved": turn.pupils_moving,
                "pupils_left": len(turn.leaving),
                "calendar": "municipality" if turn.from_municipality else "last year",
            },
        )
    return year
