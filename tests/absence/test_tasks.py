"""The reminder of the daily check: to the class team of unchecked classes, once, only in
the window before the deadline, and only on school days."""

import datetime as dt

import time_machine

from kontaktbok.absence import services, tasks
from kontaktbok.core.scheduler import registered
from kontaktbok.notifications.models import Notification
from kontaktbok.schools import services as school_services
from tests import factories

KIND = "absence.check_reminder"


def reminders():
    return Notification.objects.filter(kind=KIND)


def run_at(moment: str) -> None:
    with time_machine.travel(moment, tick=False):
        tasks.remind_daily_checks.enqueue()


def test_the_reminder_goes_to_the_class_team_of_unchecked_classes_once(world):
    class_team = factories.staff(world.school, "class_team", world.class_b, "Team B")
    factories.staff(world.school, "teacher", world.class_b, "Plain B")
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)

    run_at("2026-11-24 08:45 +0100")
    run_at("2026-11-24 08:50 +0100")  # run again: still one per person

    sent = list(reminders().order_by("recipient_id"))
    assert {n.recipient for n in sent} == {world.contact_teacher_b, class_team}
    assert len(sent) == 2
    item = sent[0]
    assert item.payload == {"group": "9B", "deadline": "09:00"}
    assert item.dedup_key == f"check-reminder:{world.class_b.pk}:2026-11-24"
    assert item.url == f"/absence/groups/{world.class_b.pk}/check/"
    assert item.school_id == world.school.pk


def test_no_reminder_outside_the_window(world):
    run_at("2026-11-24 08:44 +0100")
    run_at("2026-11-24 09:00 +0100")
    run_at("2026-11-24 12:00 +0100")
    assert not reminders().exists()
    run_at("2026-11-24 08:59 +0100")
    assert reminders().count() == 2  # the contact teachers of 4A and 9B


def test_the_window_follows_the_school_settings(world):
    school_services.school_settings_update(
        actor=world.school_admin,
        school=world.school,
        data={"check_deadline": dt.time(9, 30), "check_reminder_minutes": 30},
    )
    run_at("2026-11-24 08:55 +0100")
    assert not reminders().exists()
    run_at("2026-11-24 09:00 +0100")
    assert reminders().filter(payload__deadline="09:30").count() == 2


def test_a_short_window_is_widened_to_one_scheduler_period(world):
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"check_reminder_minutes": 1}
    )
    run_at("2026-11-24 08:55 +0100")  # the last tick before 09:00
    assert reminders().count() == 2


def test_no_reminder_on_a_holiday_or_a_weekend(world):
    run_at("2026-09-29 08:50 +0200")  # haustferie
    run_at("2026-11-28 08:50 +0100")  # Saturday
    assert not reminders().exists()


def test_no_reminder_when_every_class_has_checked(world):
    for group in (world.class_a, world.class_b):
        services.daily_check_mark(actor=world.office, group_id=group.pk)
    run_at("2026-11-24 08:50 +0100")
    assert not reminders().exists()


def test_the_reminder_is_a_periodic_task():
    assert any(item.task.name == "remind_daily_checks" for item in registered())
