"""Lookup cases for tests, opened as the application opens them: a pupil registered absent
without a report after the school's lookup time."""

import datetime as dt
from typing import Any

from kontaktbok.absence.models import LookupCase
from kontaktbok.absence.services import Mark, attendance_register
from kontaktbok.core import clock
from kontaktbok.schools.models import Group, Pupil, School
from tests.factories import World


def look_up_from_now(school: School) -> None:
    """Look for missing pupils of every grade from 07:00 (tests run at 07:45)."""
    School.objects.filter(pk=school.pk).update(
        lookup_time_primary=dt.time(7, 0), lookup_time_secondary=dt.time(7, 0)
    )


def open_case(*, teacher: Any, group: Group, pupil: Pupil) -> LookupCase:
    """Register ``pupil`` absent in ``group`` today, which opens the case."""
    look_up_from_now(group.school)
    attendance_register(
        actor=teacher, group_id=group.pk, date=clock.today(), marks=[Mark(pupil.pk, "absent")]
    )
    return LookupCase.objects.select_related("pupil", "school", "group").get(
        pupil=pupil, date=clock.today()
    )


def case_of_child_a2(w: World) -> dict[str, int]:
    """Aksel (9B, guardian_a's child) registered absent by 9B's contact teacher."""
    case = open_case(teacher=w.contact_teacher_b, group=w.class_b, pupil=w.child_a2)
    return {"case_id": case.pk}
