"""Objects for the leave rows of tests/test_access_matrix.py. Aksel (child_a2, class 9B)
is guardian_a's child; contact_teacher_b is his contact teacher."""

import datetime as dt
from typing import Any

from kontaktbok.leave import services
from kontaktbok.leave.models import Decision, LeaveApplication
from tests.factories import World

DAY = dt.date(2027, 1, 11)


def _application(w: World) -> LeaveApplication:
    return services.leave_application_create(
        actor=w.guardian_a,
        pupil_id=w.child_a2.pk,
        category=LeaveApplication.Category.TRAVEL,
        reason="Reise",
        learning_plan="Lekser",
        start_date=DAY,
        end_date=DAY,
        rules_confirmed=True,
    )


def _declined(w: World) -> tuple[LeaveApplication, Decision]:
    application = _application(w)
    decision = services.leave_decide(
        actor=w.contact_teacher_b,
        application_id=application.pk,
        outcome=Decision.Outcome.DECLINED,
        reasons="Prøveveke.",
    )
    return application, decision


def application(w: World) -> dict[str, Any]:
    return {"application_id": _application(w).pk}


def decided(w: World) -> dict[str, Any]:
    return {"application_id": _declined(w)[0].pk}


def letter(w: World) -> dict[str, Any]:
    return {"decision_id": _declined(w)[1].pk}


def appealed(w: World) -> dict[str, Any]:
    found, _decision = _declined(w)
    services.leave_appeal_create(actor=w.guardian_a, application_id=found.pk, text="Klage")
    return {"application_id": found.pk}


def case(w: World) -> dict[str, Any]:
    found, _decision = _declined(w)
    services.leave_appeal_create(actor=w.guardian_a, application_id=found.pk, text="Klage")
    appeal = services.leave_appeal_reconsider(
        actor=w.contact_teacher_b, application_id=found.pk, change=False, note="Står."
    )
    return {"appeal_id": appeal.pk}
