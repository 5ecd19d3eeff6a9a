"""Shared set-up for the lookup (etterlysing) tests: moments in Oslo, registrations, families."""

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from kontaktbok.absence import services
from kontaktbok.absence.lookup import selectors as lookup_selectors
from kontaktbok.absence.models import AttendanceMark, LookupCase
from kontaktbok.notifications.models import Delivery, Notification
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import Group, StaffRole
from tests import factories

OSLO = ZoneInfo("Europe/Oslo")
TODAY = dt.date(2026, 11, 24)  # Tuesday; the autouse fixture's day


def moment(hour: int, minute: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=OSLO)


def at(hour: int, minute: int = 0, day: dt.date = TODAY) -> Any:
    """Freeze the clock at a moment in Oslo (overrides the suite's autouse fixture)."""
    return time_machine.travel(moment(hour, minute, day), tick=False)


def register(
    teacher: Any,
    group: Group,
    marks: dict[Any, str],
    day: dt.date = TODAY,
    **extra: Any,
) -> list:
    """The teacher saves the registration: ``{pupil: status}``, "late" with 10 minutes."""
    return services.attendance_register(
        actor=teacher,
        group_id=group.pk,
        date=day,
        marks=[
            services.Mark(pupil.pk, status, late_minutes=10 if status == "late" else None, **extra)
            for pupil, status in marks.items()
        ],
    )


def marked_anyway(teacher: Any, group: Group, marks: dict[Any, str], day: dt.date) -> None:
    """Marks on a day attendance is refused for (a weekend, a holiday added afterwards, data
    from before the rule): written directly, to show the lookup does not act on them."""
    AttendanceMark.objects.bulk_create(
        AttendanceMark(
            pupil=pupil,
            group=group,
            date=day,
            status=status,
            registered_by=teacher,
            registered_at=moment(8, 30, day),
        )
        for pupil, status in marks.items()
    )


@contextlib.contextmanager
def at_and_register(
    hour: int, minute: int, teacher: Any, group: Group, marks: dict[Any, str]
) -> Iterator[None]:
    with at(hour, minute):
        register(teacher, group, marks)
        yield


def third_grade(world: Any) -> tuple[Group, Any, Any, Any]:
    """Class 3A (grade 3) with one pupil, Tiril, her guardian (e-mail and mobile) and the
    contact teacher."""
    year = world.class_a.school_year
    group = school_services.group_create(actor=None, school_year=year, name="3A", grade=3)
    pupil = factories.pupil(group, "Tiril")
    guardian = factories.user("Mor til Tiril", phone="+47 912 00 003")
    school_services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
    teacher = factories.staff(world.school, StaffRole.Role.CONTACT_TEACHER, group, "Teacher 3A")
    return group, pupil, guardian, teacher


def give_phones(*users: Any) -> None:
    for n, user in enumerate(users):
        user.phone = f"+47 913 00 {n:03d}"
        user.save(update_fields=["phone"])


def case_of(pupil: Any) -> LookupCase:
    return LookupCase.objects.get(pupil=pupil)


def notifications(kind: str, **filters: Any) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind, **filters).order_by("pk"))


def recipients(kind: str, **filters: Any) -> set:
    return {n.recipient for n in notifications(kind, **filters)}


def delivered(notification: Notification) -> dict[str, str]:
    return {d.channel: d.status for d in Delivery.objects.filter(notification=notification)}


def steps(actor: Any, case: LookupCase, as_guardian: bool = False) -> list[tuple[str, ...]]:
    """The timeline as (kind, step, channel, status, detail) tuples, in order."""
    return [
        (e.kind, e.step, e.channel, e.status, e.detail if e.kind != "alert" else "")
        for e in lookup_selectors.timeline(actor=actor, case=case, as_guardian=as_guardian)
    ]
