"""What the workers do after a leave write: each step may run twice, late or out of order
without harm, and the safety net finishes what a failed worker left."""

import datetime as dt
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.core.models import AuditEntry
from kontaktbok.leave import services, tasks
from kontaktbok.leave.models import Appeal, Decision
from kontaktbok.notifications.models import Notification
from tests.leave.helpers import MONDAY, TODAY, apply, decide, second_guardian
from tests.leave.test_pdf import text_of
from tests.test_query_budgets import _queue_tasks

pytestmark = pytest.mark.django_db


def _forget_queued() -> list[tuple[str, dict[str, Any]]]:
    """What was queued, as (task, arguments); the queue is emptied, as if the worker died."""
    queued = [
        (path.rsplit(".", 1)[-1], args_kwargs["kwargs"])
        for path, args_kwargs in DBTaskResult.objects.order_by("enqueued_at", "id").values_list(
            "task_path", "args_kwargs"
        )
    ]
    DBTaskResult.objects.all().delete()
    return queued


def test_a_decision_left_unfinished_is_finished_by_the_safety_net(world, settings, time_machine):
    other = second_guardian(world)
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    _queue_tasks(settings)
    decision = decide(world, application)
    assert [name for name, _kwargs in _forget_queued()] == ["finish_decision"]
    assert tasks.finish_unfinished.call() == 0  # not yet: the worker may still come
    time_machine.move_to(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC))  # 08:00 in Oslo
    assert tasks.finish_unfinished.call() == 1
    decision.refresh_from_db()
    assert bytes(decision.letter).startswith(b"%PDF")
    told = Notification.objects.filter(dedup_key=f"leave.decided:{decision.pk}")
    assert {n.recipient_id for n in told} == {world.guardian_a.pk, other.pk}
    assert absence_selectors.leave_days([world.child_a.pk], MONDAY, MONDAY).exists()
    assert tasks.finish_unfinished.call() == 0


def test_letters_are_rendered_outside_any_transaction(world, settings, monkeypatch):
    """WeasyPrint takes a while; on SQLite a transaction holds the write lock, so every
    writer would wait for the PDF. The worker renders first, then stores and tells."""
    from django.db import connection

    from kontaktbok.leave import pdf

    render = pdf.render_pdf
    blocks_while_rendering = []

    def watched(*args: Any, **kwargs: Any) -> bytes:
        blocks_while_rendering.append(len(connection.atomic_blocks))
        return render(*args, **kwargs)

    monkeypatch.setattr(pdf, "render_pdf", watched)
    application = apply(world)
    decide(world, application, Decision.Outcome.DECLINED)
    services.leave_appeal_create(actor=world.guardian_a, application_id=application.pk, text="x")
    _queue_tasks(settings)
    services.leave_appeal_reconsider(
        actor=world.contact_teacher_a, application_id=application.pk, change=False, note="Står."
    )
    outside = len(connection.atomic_blocks)  # the test's own transaction only
    for name, kwargs in _forget_queued():
        getattr(tasks, name).call(**kwargs)
    # The decision's letter (made when it was decided) and the case for the Statsforvaltar.
    assert blocks_while_rendering and set(blocks_while_rendering) == {outside}
    assert Appeal.objects.get().case_pdf


def test_an_upheld_appeal_left_unfinished_is_finished_by_the_safety_net(
    world, settings, time_machine
):
    application = apply(world)
    decide(world, application, Decision.Outcome.DECLINED)
    services.leave_appeal_create(actor=world.guardian_a, application_id=application.pk, text="x")
    _queue_tasks(settings)
    appeal = services.leave_appeal_reconsider(
        actor=world.contact_teacher_a, application_id=application.pk, change=False, note="Står."
    )
    assert [name for name, _kwargs in _forget_queued()] == ["finish_upheld_appeal"]
    time_machine.move_to(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC))  # 08:00 in Oslo
    assert tasks.finish_unfinished.call() == 1
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert bytes(appeal.case_pdf).startswith(b"%PDF")
    assert Notification.objects.filter(dedup_key=f"leave.appeal_outcome:{appeal.pk}").exists()


def test_finishing_twice_changes_nothing(world, settings):
    application = apply(world)
    _queue_tasks(settings)
    decision = decide(world, application)
    [(name, kwargs)] = _forget_queued()
    assert name == "finish_decision"
    tasks.finish_decision.call(**kwargs)
    decision.refresh_from_db()
    letter = bytes(decision.letter)
    tasks.finish_decision.call(**kwargs)
    decision.refresh_from_db()
    assert bytes(decision.letter) == letter
    assert Notification.objects.filter(kind="leave.decided").count() == 1
    assert not AuditEntry.objects.filter(action="absence.history.read").exists()  # no reader
    assert absence_selectors.leave_days([world.child_a.pk], MONDAY, MONDAY).count() == 1


def test_leave_days_follow_the_decision_in_force_whatever_the_order(world, settings):
    """An approval changed to a decline on appeal: if the first decision's worker runs
    last, the days still end up taken back."""
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    _queue_tasks(settings)
    decide(
        world,
        application,
        Decision.Outcome.PARTLY_APPROVED,
        approved_start=MONDAY,
        approved_end=MONDAY,
    )
    [first] = _forget_queued()
    services.leave_appeal_create(actor=world.guardian_a, application_id=application.pk, text="x")
    _forget_queued()
    services.leave_appeal_reconsider(
        actor=world.contact_teacher_a,
        application_id=application.pk,
        change=True,
        note="Feil i saka.",
        outcome=Decision.Outcome.DECLINED,
        reasons="Ikkje forsvarleg.",
    )
    [second] = _forget_queued()
    tasks.finish_decision.call(**second[1])
    tasks.finish_decision.call(**first[1])
    assert not absence_selectors.leave_days([world.child_a.pk], MONDAY, MONDAY).exists()


def test_the_appeal_deadline_counts_from_the_day_the_letter_can_be_read(
    world, settings, time_machine
):
    """The three weeks run from the day the letter is made and the guardians are told
    (forvaltningslova § 30), not from the decision: a worker that comes two days late
    moves the deadline two days, in the letter and in the app."""
    application = apply(world)
    _queue_tasks(settings)
    decision = decide(world, application)
    assert decision.appeal_deadline == TODAY + dt.timedelta(days=21)
    _forget_queued()
    time_machine.move_to(dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC))  # two days later
    assert tasks.finish_unfinished.call() == 1
    decision.refresh_from_db()
    assert decision.appeal_deadline == dt.date(2026, 12, 17)
    letter = text_of(decision.letter)
    assert "26.11.2026" in letter and "17.12.2026" in letter
    # Made once: asking again later changes neither the letter nor the deadline.
    time_machine.move_to(dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC))
    assert services.decision_letter_make(decision=decision) == bytes(decision.letter)
    decision.refresh_from_db()
    assert decision.appeal_deadline == dt.date(2026, 12, 17)
