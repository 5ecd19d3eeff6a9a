"""Objects for the leave rows of tests/test_access_matrix.py. Aksel (child_a2, class 9B)
is guardian_a's child; contact_teacher_b is his contact teacher."""

import datetime as dt
from typing import Any

from kontaktbok.leave import services
from kontaktbok.leave.models import Decision, LeaveApplication
from tests.factories import World

DAY = dt.date(2027, 1, 11)


def _application(w: World) -> LeaveApplication:
    return _apply(w.guardian_a, w.child_a2)


def _apply(guardian: Any, pupil: Any) -> LeaveApplication:
    """A one-day travel application by ``guardian`` for ``pupil``."""
    return services.leave_application_create(
        actor=guardian,
        pupil_id=pupil.pk,
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


def _upheld(w: World) -> Any:
    found, _decision = _declined(w)
    services.leave_appeal_create(actor=w.guardian_a, application_id=found.pk, text="Klage")
    return services.leave_appeal_reconsider(
        actor=w.contact_teacher_b, application_id=found.pk, change=False, note="Står."
    )


def case(w: World) -> dict[str, Any]:
    return {"appeal_id": _upheld(w).pk}


def upheld(w: World) -> dict[str, Any]:
    """An upheld appeal whose case the decider has yet to send on."""
    return {"application_id": _upheld(w).application_id}


def awaiting_guardian_b(w: World) -> dict[str, Any]:
    """An application for Aksel that waits for his other guardian: guardian_b is given
    parental responsibility for him first, so guardian_b is asked to agree."""
    from kontaktbok.schools.services import guardianship_set

    guardianship_set(actor=None, guardian=w.guardian_b, pupil=w.child_a2)
    return application(w)


def awaiting_restricted(w: World) -> dict[str, Any]:
    """guardian_b applies for Vern (9B, protected address): the restricted guardian must
    agree but is never asked in the app; the school records the consent."""
    return {"application_id": _apply(w.guardian_b, w.protected_child).pk}


# --- request bodies: valid, so that only the actors allowed succeed ----------------------


def new_application(w: World) -> dict[str, Any]:
    return {
        "pupil_id": w.child_a2.pk,
        "start_date": str(DAY + dt.timedelta(days=1)),
        "end_date": str(DAY + dt.timedelta(days=1)),
        "category": LeaveApplication.Category.TRAVEL,
        "reason": "Reise",
        "learning_plan": "Lekser",
        "rules_confirmed": True,
    }


def agree(w: World) -> dict[str, Any]:
    return {"agree": True}


def agree_form(w: World) -> dict[str, Any]:
    return {"answer": "agree"}


def decline_decision(w: World) -> dict[str, Any]:
    return {"outcome": Decision.Outcome.DECLINED, "reasons": "Prøveveke."}


def appeal_text(w: World) -> dict[str, Any]:
    return {"text": "Klage"}


def uphold(w: World) -> dict[str, Any]:
    return {"change": False, "note": "Vedtaket står."}


def uphold_form(w: World) -> dict[str, Any]:
    return {"result": "uphold", "note": "Vedtaket står."}


def restricted_consent(w: World) -> dict[str, Any]:
    return {"guardian_id": w.restricted_guardian.pk, "note": "Signert brev."}


def restricted_consent_form(w: World) -> dict[str, Any]:
    return {"guardian": w.restricted_guardian.pk, "note": "Signert brev."}
