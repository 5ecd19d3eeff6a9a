"""Background work for leave, queued by the leave services in their own transaction (the
task row is committed with the write, or not at all), and a periodic safety net."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.leave.services import follow_up


@task
def ask_for_consent(*, application_id: int, guardian_ids: list[int]) -> None:
    """Ask the other guardians to agree to a new application."""
    follow_up.ask_for_consent(application_id=application_id, guardian_ids=guardian_ids)


@task
def tell_deciders(*, application_id: int) -> None:
    """An application has reached the school: tell who decides it."""
    follow_up.tell_deciders(application_id=application_id)


@task
def tell_consent_declined(*, application_id: int) -> None:
    """The other guardian did not agree: tell the applicant."""
    follow_up.tell_consent_declined(application_id=application_id)


@task
def tell_appeal_received(*, appeal_id: int) -> None:
    """A guardian has appealed: tell who reconsiders it."""
    follow_up.tell_appeal_received(appeal_id=appeal_id)


@task
def finish_decision(*, decision_id: int) -> None:
    """Record the leave days, make and store the letter, then tell the guardians."""
    follow_up.decision_finish(decision_id=decision_id)


@task
def finish_upheld_appeal(*, appeal_id: int) -> None:
    """Make and store the case for the appeal body, then tell the guardians and the
    decider, who sends it on."""
    follow_up.appeal_finish(appeal_id=appeal_id)


@task
def tell_appeal_sent_on(*, appeal_id: int) -> None:
    """The case is sent to the appeal body: tell the guardians."""
    follow_up.tell_appeal_sent_on(appeal_id=appeal_id)


@periodic(every_minutes=5)
@task
def finish_unfinished() -> int:
    """Letters and cases a failed worker left unmade are made, and the guardians told."""
    return follow_up.finish_unfinished()
