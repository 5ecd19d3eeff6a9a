"""The holder's reminders: the 14-day decision at level 0, with the deadline, and
overdue evaluations; and the periodic tasks are registered with the scheduler."""

import datetime as dt

import pytest

from kontaktbok.core import clock
from kontaktbok.core.scheduler import registered
from kontaktbok.notifications.models import Notification
from kontaktbok.relaylog import services, tasks
from tests.relaylog.helpers import consented, open_log

pytestmark = pytest.mark.django_db


def _reminders(user):
    return list(
        Notification.objects.filter(recipient=user, kind="relaylog.decision_due").order_by("pk")
    )


def test_the_level_0_decision_is_due_in_14_days_and_reminded_with_the_deadline(world, time_machine):
    log = open_log(world, level=0)
    assert log.decide_by == dt.date(2026, 12, 8)  # opened Tuesday 24 November
    time_machine.move_to("2026-12-04 09:00 +0100")  # four days before: not yet
    tasks.remind_decisions()
    assert _reminders(world.leadership) == []
    time_machine.move_to("2026-12-05 09:00 +0100")  # three days before
    tasks.remind_decisions()
    tasks.remind_decisions()  # the same day again: still one
    [first] = _reminders(world.leadership)
    assert first.payload == {"child": "Aksel", "deadline": "8.12.2026"}
    assert first.url == f"/relaylog/{log.pk}/"
    time_machine.move_to("2026-12-09 09:00 +0100")  # past the deadline: reminded still
    tasks.remind_decisions()
    assert len(_reminders(world.leadership)) == 2


def test_no_reminder_once_the_holder_has_decided(world, time_machine):
    log = open_log(world, level=0)
    services.level_decide(actor=world.leadership, log_id=log.pk, level=1)
    time_machine.move_to("2026-12-08 09:00 +0100")
    assert tasks.remind_decisions() == 0


def test_a_level_1_log_has_no_14_day_decision(world, time_machine):
    log = open_log(world, level=1)
    assert log.decide_by is None
    time_machine.move_to("2026-12-20 09:00 +0100")
    assert tasks.remind_decisions() == 0


def test_an_overdue_evaluation_is_flagged_to_the_holder_once(world, time_machine):
    log = consented(world)
    goal = services.goal_add(actor=world.leadership, log_id=log.pk, text="Mål")
    today = clock.today()
    measure = services.measure_add(
        actor=world.leadership,
        log_id=log.pk,
        goal_id=goal.pk,
        text="Tiltak",
        responsible="Kontaktlærar",
        deadline=today + dt.timedelta(days=30),
        evaluate_on=today + dt.timedelta(days=7),
    )
    time_machine.move_to("2026-12-01 09:00 +0100")  # the evaluation date itself: not overdue
    assert tasks.flag_overdue_evaluations() == 0
    time_machine.move_to("2026-12-02 09:00 +0100")
    tasks.flag_overdue_evaluations()
    tasks.flag_overdue_evaluations()
    flagged = Notification.objects.filter(
        recipient=world.leadership, kind="relaylog.evaluation_due"
    )
    assert flagged.count() == 1
    assert flagged.get().payload == {"child": "Aksel"}
    services.evaluation_add(
        actor=world.leadership,
        log_id=log.pk,
        measure_id=measure.pk,
        text="Betre",
        outcome="continue",
    )
    assert tasks.flag_overdue_evaluations() == 0


def test_the_periodic_tasks_are_registered():
    names = {item.task.name for item in registered()}
    assert {"remind_holders", "resend_waiting"} <= names
