"""Shared helpers for the leave tests: a second guardian, applications and decisions made
through the services."""

import datetime as dt
from typing import Any

from kontaktbok.leave import services
from kontaktbok.leave.models import Decision, LeaveApplication
from kontaktbok.schools import services as school_services
from tests import factories

TODAY = dt.date(2026, 11, 24)  # Tuesday; the autouse fixture's day
# A Monday well past the default lead time (14 days).
MONDAY = dt.date(2027, 1, 11)


def second_guardian(world: Any, pupil: Any = None, **extra: Any) -> Any:
    """Another guardian sharing parental responsibility for child_a (unless told)."""
    other = factories.user("Second Guardian")
    school_services.guardianship_set(
        actor=None, guardian=other, pupil=pupil or world.child_a, **extra
    )
    return other


def apply(
    world: Any,
    start: dt.date = MONDAY,
    end: dt.date | None = None,
    **extra: Any,
) -> LeaveApplication:
    data: dict[str, Any] = {
        "actor": world.guardian_a,
        "pupil_id": world.child_a.pk,
        "category": LeaveApplication.Category.TRAVEL,
        "reason": "Bestemor fyller 90 år i Bergen.",
        "learning_plan": "Vi tek med lekseplanen og les kvar dag.",
        "start_date": start,
        "end_date": end or start,
        "rules_confirmed": True,
    }
    data.update(extra)
    return services.leave_application_create(**data)


def decide(
    world: Any,
    application: LeaveApplication,
    outcome: str = Decision.Outcome.APPROVED,
    actor: Any = None,
    **extra: Any,
) -> Decision:
    extra.setdefault("reasons", "Undervisninga i heilskap er forsvarleg.")
    return services.leave_decide(
        actor=actor or world.contact_teacher_a,
        application_id=application.pk,
        outcome=outcome,
        **extra,
    )
