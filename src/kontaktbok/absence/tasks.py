"""Background work for absence: remind the class team of the daily check, and look for
missing pupils (etterlysing)."""

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch
from django.tasks import task
from django.urls import reverse

from kontaktbok.absence.kinds import CHECK_REMINDER
from kontaktbok.absence.lookup import services as lookup
from kontaktbok.absence.models import DailyCheck
from kontaktbok.core import clock
from kontaktbok.core.scheduler import periodic
from kontaktbok.notifications.services import notify
from kontaktbok.schools import selectors
from kontaktbok.schools.models import Group, School, SchoolYear, StaffRole

EVERY_MINUTES = 5
TEAM_ROLES = [StaffRole.Role.CONTACT_TEACHER, StaffRole.Role.CLASS_TEAM]


def _in_reminder_window(school: School, now: dt.datetime) -> bool:
    """From ``check_reminder_minutes`` before the check deadline until the deadline; at
    least one scheduler period wide, so that a tick always falls inside it."""
    deadline = clock.at(now.date(), school.check_deadline)
    minutes = max(school.check_reminder_minutes, EVERY_MINUTES)
    return deadline - dt.timedelta(minutes=minutes) <= now < deadline


def _unchecked_classes(year: SchoolYear, day: dt.date) -> list[Group]:
    checked = DailyCheck.objects.filter(group=OuterRef("pk"), date=day)
    team = StaffRole.objects.in_force().filter(role__in=TEAM_ROLES).select_related("member__user")
    return list(
        Group.objects.filter(school_year=year, kind=Group.Kind.CLASS)
        .exclude(Exists(checked))
        .prefetch_related(Prefetch("staff_roles", queryset=team, to_attr="team_roles"))
        .order_by("pk")
    )


def remind_school(school: School, now: dt.datetime) -> int:
    """Remind the class team of each class of ``school`` that has not checked today."""
    day = now.date()
    if not _in_reminder_window(school, now):
        return 0
    year = selectors.school_year_if_school_day(school, day)
    if year is None:
        return 0
    sent = 0
    deadline = school.check_deadline.strftime("%H:%M")
    for group in _unchecked_classes(year, day):
        recipients: dict[int, Any] = {}
        for role in getattr(group, "team_roles", []):
            user = role.member.user
            if user.is_active:
                recipients[user.pk] = user
        for user in recipients.values():
            notify(
                recipient=user,
                kind=CHECK_REMINDER.code,
                dedup_key=f"check-reminder:{group.pk}:{day.isoformat()}",
                payload={"group": group.name, "deadline": deadline},
                url=reverse("daily_check", args=[group.pk]),
                school_id=school.pk,
            )
            sent += 1
    return sent


@periodic(every_minutes=EVERY_MINUTES)
@task
def remind_daily_checks() -> int:
    """Shortly before the check deadline, remind the class teams that have not checked.
    Idempotent: one reminder per person, class and day (the dedup key)."""
    now = clock.local_now()
    return sum(remind_school(school, now) for school in School.objects.order_by("pk"))


@periodic(every_minutes=1)
@task
def look_for_missing_pupils() -> dict[str, int]:
    """Every minute: open the cases whose lookup time has come (grades 8–10 at the first
    break; anyone registered absent earlier than their band's time), escalate unanswered
    cases whose window has passed, alert classes with no registration after the first
    lesson, and close the cases of pupils registered present since. Each step is
    idempotent, so a doubled or late tick does no harm."""
    now = clock.now()
    return {
        "closed": lookup.close_arrived(day=now.astimezone(clock.SCHOOL_TZ).date()),
        "opened": lookup.open_due_cases(now=now),
        "escalated": lookup.escalate_due(now=now),
        "unregistered": lookup.alert_missing_registrations(now=now),
    }


@task
def look_up_registered(*, day: str, absent: list[int], arrived: list[int]) -> dict[str, int]:
    """Right after a registration is saved: close the cases of the pupils who arrived and
    look for those registered absent whose band's lookup time has come."""
    if dt.date.fromisoformat(day) != clock.today():
        return {"closed": 0, "opened": 0}  # the day is over; nothing to look for
    return {
        "closed": lookup.close_arrived(day=clock.today(), pupil_ids=arrived) if arrived else 0,
        "opened": lookup.open_due_cases(pupil_ids=absent) if absent else 0,
    }


@task
def tell_staff_answered(*, case_id: int) -> None:
    """A guardian answered a lookup alert: tell the contact teacher and kontor."""
    lookup.tell_staff_answered(case_id=case_id)
