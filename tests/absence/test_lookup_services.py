"""Looking for a missing pupil (etterlysing), absence/lookup/services.py: opening a case at
the grade band's time, alerting the guardians on every channel, the guardians' answers,
escalation, arrival and closing; full timelines with the clock frozen in Oslo."""

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import translation

from kontaktbok.absence import services
from kontaktbok.absence.lookup import services as lookup
from kontaktbok.absence.models import AbsenceReport, LookupCase
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications import channels
from kontaktbok.notifications.models import Delivery, Notification, SinkMessage
from kontaktbok.schools import services as school_services
from tests import factories
from tests.absence.lookup_helpers import (
    TODAY,
    at,
    case_of,
    delivered,
    give_phones,
    marked_anyway,
    moment,
    notifications,
    recipients,
    register,
    steps,
    third_grade,
)
from tests.notifications.conftest import SmsGateway
from tests.notifications.push_receiver import PushReceiver

pytestmark = pytest.mark.django_db

ALERT = "absence.lookup.alert"
ESCALATION = "absence.lookup.escalation"
ARRIVED = "absence.lookup.arrived"
STAFF_ESCALATION = "absence.lookup.staff_escalation"
ANSWERED = "absence.lookup.answered"
Status = LookupCase.Status


@pytest.fixture
def outbox(django_capture_on_commit_callbacks):
    """Run what the services queue on commit: the deliveries (immediate task backend)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def sms_gateway(settings):
    gateway = SmsGateway()
    settings.SMS_GATEWAY = "http"
    settings.SMS_URL = gateway.url
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def label(answer: str, language: str) -> str:
    with translation.override(language):
        return str(LookupCase.Answer(answer).label)


def sick_report(world: Any, guardian: Any, pupil: Any) -> AbsenceReport:
    return services.absence_report_create(
        actor=guardian,
        pupil_id=pupil.pk,
        start_date=TODAY,
        end_date=TODAY,
        absence_type=world.school.absence_types.get(code="sick"),
    )


def open_case_for_anna(world: Any) -> LookupCase:
    """Anna (4A, grade 4) registered absent at 08:55: looked for at once."""
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    return case_of(world.child_a)


# --- full timelines -------------------------------------------------------------------------


def test_a_third_grader_found_at_home_sick(world, outbox):
    group, tiril, mother, teacher = third_grade(world)
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"phone": "+47 57 00 00 00"}
    )
    with at(8, 55), outbox():
        register(teacher, group, {tiril: "absent"})

    case = case_of(tiril)
    assert (case.status, case.group, case.registered_by) == (Status.OPEN, group, teacher)
    assert case.opened_at == case.registered_at == moment(8, 55)
    assert case.escalate_at == moment(9, 35)  # the school's 40 minutes
    [alert] = notifications(ALERT)
    assert alert.recipient == mother and alert.urgent
    assert alert.payload == {
        "child": "Tiril",
        "school": "Skule A",
        "phone": "+47 57 00 00 00",
        "group": "3A",
    }
    assert alert.url == f"/absence/lookup/{case.pk}/"
    assert delivered(alert) == {"email": "delivered", "sms": "delivered"}
    [sms] = SinkMessage.objects.filter(channel="sms")
    assert sms.to == "+4791200003"
    assert "+47 57 00 00 00" in sms.body and f"/absence/lookup/{case.pk}/" in sms.body

    with at(9, 5), outbox():
        answered = lookup.lookup_answer(actor=mother, case_id=case.pk, answer="home_sick")

    assert answered.status == Status.CLOSED
    assert (answered.answer, answered.answered_by) == ("home_sick", mother)
    assert answered.answered_at == answered.closed_at == moment(9, 5)
    assert answered.outcome == LookupCase.Outcome.HOME_SICK  # what happened, not "found"
    # "At home sick" is a reported absence of the type sick; the school asked for it after
    # the deadline, so it is not marked as reported late.
    report = AbsenceReport.objects.get(pupil=tiril)
    assert (report.absence_type.code, report.reported_by) == ("sick", mother)
    assert (report.start_date, report.end_date, report.late) == (TODAY, TODAY, False)
    # The school sees the answer at once: the contact teacher and kontor are told.
    assert recipients(ANSWERED) == {teacher, world.office}
    assert notifications(ANSWERED)[0].payload["answer"] == label("home_sick", "nn")
    # No escalation afterwards.
    with at(9, 40), outbox():
        assert lookup.escalate_due() == 0
    assert not notifications(ESCALATION)

    assert steps(world.office, case) == [
        ("registered", "", "", "", ""),
        ("opened", "", "", "", ""),
        ("alert", "alert", "email", "delivered", ""),
        ("alert", "alert", "sms", "delivered", ""),
        ("answered", "", "", "", "home_sick"),
        ("closed", "", "", "", "home_sick"),
    ]


def test_a_ninth_grader_not_accounted_for_is_escalated_then_closed_found(world, outbox):
    give_phones(world.guardian_a)
    with at(8, 35), outbox():
        register(world.contact_teacher_b, world.class_b, {world.child_a2: "absent"})
    assert not LookupCase.objects.exists()  # grades 8–10: at the first break

    with at(9, 59), outbox():
        assert lookup.open_due_cases() == 0
    with at(10, 0), outbox():
        assert lookup.open_due_cases() == 1
    case = case_of(world.child_a2)
    assert case.registered_at == moment(8, 35)
    assert case.opened_at == moment(10, 0)
    assert case.escalate_at == moment(10, 40)
    assert recipients(ALERT) == {world.guardian_a}

    with at(10, 39), outbox():
        assert lookup.escalate_due() == 0
    with at(10, 40), outbox():
        assert lookup.escalate_due() == 1
    case.refresh_from_db()
    assert (case.status, case.escalated_at) == (Status.ESCALATED, moment(10, 40))
    [second] = notifications(ESCALATION)
    assert second.recipient == world.guardian_a and second.urgent
    # The second alert asks the guardians to consider the police (in Nynorsk by default).
    assert "politiet (telefon 112 eller 02800)" in channels.render(second).body
    assert delivered(second) == {"email": "delivered", "sms": "delivered"}
    staff = notifications(STAFF_ESCALATION)
    assert {n.recipient for n in staff} == {world.contact_teacher_b, world.leadership, world.office}
    assert all(n.urgent and n.payload["minutes"] == 40 for n in staff)

    with at(11, 0), outbox():
        closed = lookup.lookup_close(actor=world.office, case_id=case.pk, outcome="found")
    assert (closed.status, closed.outcome, closed.closed_by) == (
        Status.CLOSED,
        "found",
        world.office,
    )
    assert closed.closed_at == moment(11, 0)
    entry = AuditEntry.objects.get(action="absence.lookup.closed")
    assert (entry.actor, entry.role) == (world.office, "office")

    timeline = steps(world.office, case)
    assert timeline[:4] == [
        ("registered", "", "", "", ""),
        ("opened", "", "", "", ""),
        ("alert", "alert", "email", "delivered", ""),
        ("alert", "alert", "sms", "delivered", ""),
    ]
    assert timeline[4] == ("escalated", "", "", "", "")
    escalation = timeline[5:-1]
    assert {(kind, step, status) for kind, step, _c, status, _d in escalation} == {
        ("alert", "escalation", "delivered")
    }
    # The guardian's e-mail and SMS; the contact teacher's, leiing's and kontor's e-mail.
    assert sorted(channel for *_x, channel, _s, _d in escalation) == ["email"] * 4 + ["sms"]
    assert timeline[-1] == ("closed", "", "", "", "found")
    # The guardian sees the same case with only their own alerts.
    assert steps(world.guardian_a, case, as_guardian=True) == [
        ("registered", "", "", "", ""),
        ("opened", "", "", "", ""),
        ("alert", "alert", "email", "delivered", ""),
        ("alert", "alert", "sms", "delivered", ""),
        ("escalated", "", "", "", ""),
        ("alert", "escalation", "email", "delivered", ""),
        ("alert", "escalation", "sms", "delivered", ""),
        ("closed", "", "", "", "found"),
    ]


def test_a_pupil_who_arrives_late_closes_the_case_and_the_guardians_are_told(world, outbox):
    give_phones(world.guardian_a)
    with at(8, 55), outbox():
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    case = case_of(world.child_a)

    with at(9, 20), outbox():
        register(world.contact_teacher_a, world.class_a, {world.child_a: "late"})

    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, LookupCase.Outcome.ARRIVED)
    assert (case.closed_by, case.closed_at) == (world.contact_teacher_a, moment(9, 20))
    [arrived] = notifications(ARRIVED)
    assert arrived.recipient == world.guardian_a and arrived.urgent
    assert delivered(arrived) == {"email": "delivered", "sms": "delivered"}
    with at(9, 40):
        assert lookup.escalate_due() == 0
    assert steps(world.office, case) == [
        ("registered", "", "", "", ""),
        ("opened", "", "", "", ""),
        ("alert", "alert", "email", "delivered", ""),
        ("alert", "alert", "sms", "delivered", ""),
        ("closed", "", "", "", "arrived"),
        ("alert", "arrived", "email", "delivered", ""),
        ("alert", "arrived", "sms", "delivered", ""),
    ]


def test_registered_present_closes_the_case_as_arrived(world):
    case = open_case_for_anna(world)
    with at(10, 0):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "present"})
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, "arrived")
    assert recipients(ARRIVED) == {world.guardian_a}


# --- when a case opens ----------------------------------------------------------------------


def test_a_primary_pupil_registered_before_the_lookup_time_is_looked_for_at_that_time(world):
    with at(8, 40):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    assert not LookupCase.objects.exists()
    with at(8, 49):
        assert lookup.open_due_cases() == 0
    with at(8, 50):
        assert lookup.open_due_cases() == 1
        assert lookup.open_due_cases() == 0
    case = case_of(world.child_a)
    assert (case.registered_at, case.opened_at) == (moment(8, 40), moment(8, 50))


def test_a_primary_pupil_registered_after_the_lookup_time_is_looked_for_at_once(world):
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    assert case_of(world.child_a).opened_at == moment(8, 55)
    assert recipients(ALERT) == {world.guardian_a}


@pytest.mark.parametrize("status", ["present", "late"])
def test_a_secondary_pupil_who_arrives_before_the_first_break_gets_no_case(world, status):
    with at(8, 35):
        register(world.contact_teacher_b, world.class_b, {world.child_a2: "absent"})
    with at(9, 30):
        register(world.contact_teacher_b, world.class_b, {world.child_a2: status})
    with at(10, 0):
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()
    assert not notifications(ALERT)


def test_a_secondary_pupil_registered_absent_after_the_break_is_looked_for_at_once(world):
    with at(10, 5):
        register(world.contact_teacher_b, world.class_b, {world.child_a2: "absent"})
    assert case_of(world.child_a2).opened_at == moment(10, 5)


def test_the_lookup_times_follow_the_school_settings(world):
    school_services.school_settings_update(
        actor=world.school_admin,
        school=world.school,
        data={
            "lookup_time_primary": dt.time(9, 0),
            "lookup_time_secondary": dt.time(9, 45),
            "escalation_minutes": 30,
        },
    )
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        register(world.contact_teacher_b, world.class_b, {world.child_a2: "absent"})
    assert not LookupCase.objects.exists()
    with at(9, 0):
        assert lookup.open_due_cases() == 1
    with at(9, 45):
        assert lookup.open_due_cases() == 1
    assert case_of(world.child_a2).escalate_at == moment(10, 15)


def test_a_reason_given_by_staff_means_no_case(world):
    with at(8, 55):
        register(
            world.contact_teacher_a,
            world.class_a,
            {world.child_a: "absent"},
            staff_reason="Tannlege, mor ringde",
        )
    with at(9, 0):
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()


def test_a_reported_absence_means_no_case(world):
    sick_report(world, world.guardian_a, world.child_a)
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()
    assert not notifications(ALERT)


def test_a_withdrawn_report_no_longer_explains_the_day(world):
    report = sick_report(world, world.guardian_a, world.child_a)
    services.absence_report_withdraw(actor=world.guardian_a, report_id=report.pk)
    open_case_for_anna(world)
    assert recipients(ALERT) == {world.guardian_a}


def test_approved_leave_means_no_case(world):
    services.leave_days_record(
        actor=None,
        pupil=world.child_a,
        start_date=TODAY - dt.timedelta(days=1),
        end_date=TODAY + dt.timedelta(days=2),
        reference="leave:1",
    )
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()


@pytest.mark.parametrize(
    "day",
    [dt.date(2026, 11, 28), dt.date(2026, 9, 29)],
    ids=["saturday", "autumn-holiday"],
)
def test_no_case_on_a_day_without_school(world, day):
    with at(8, 55, day=day):
        marked_anyway(world.contact_teacher_a, world.class_a, {world.child_a: "absent"}, day)
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()


def test_a_registration_for_an_earlier_day_opens_no_case(world):
    monday = TODAY - dt.timedelta(days=1)
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"}, day=monday)
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()


def test_a_pupil_in_no_class_gets_no_case(world):
    year = world.class_a.school_year
    group = school_services.group_create(
        actor=None, school_year=year, name="Tysk", kind="teaching", grade=None
    )
    pupil = factories.pupil(group, "Utan klasse")
    teacher = factories.staff(world.school, "contact_teacher", group, "Tyskläraren")
    with at(10, 30):
        register(teacher, group, {pupil: "absent"})
        assert lookup.open_due_cases() == 0
    assert not LookupCase.objects.exists()


def test_one_case_per_pupil_and_day_however_often_registered(world):
    open_case_for_anna(world)
    with at(9, 30):
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        assert lookup.open_due_cases() == 0
    assert LookupCase.objects.count() == 1
    assert len(notifications(ALERT)) == 1


# --- who is alerted, on which channels, in which language -----------------------------------


def test_only_guardians_with_responsibility_who_may_be_informed_are_alerted(world):
    with at(8, 55):
        register(world.contact_teacher_a, world.class_a, {world.child_b: "absent"})
    with at(10, 0):
        register(world.contact_teacher_b, world.class_b, {world.protected_child: "absent"})
    assert recipients(ALERT, dedup_key__startswith=f"lookup:{case_of(world.child_b).pk}:") == {
        world.guardian_b
    }
    protected = case_of(world.protected_child)
    assert recipients(ALERT, dedup_key__startswith=f"lookup:{protected.pk}:") == {world.guardian_b}
    assert world.restricted_guardian not in recipients(ALERT)
    assert world.guardian_without_responsibility not in recipients(ALERT)
    # Nor the escalation.
    with at(10, 45):
        assert lookup.escalate_due() == 2
    assert recipients(ESCALATION) == {world.guardian_b}


def test_the_alert_goes_out_on_every_channel_at_any_hour(
    world, outbox, smtp_server, sms_gateway, settings
):
    """Urgent: e-mail, SMS, every push device (with high urgency) and in-app, even when
    the sending window for ordinary notifications is closed."""
    from kontaktbok.notifications import services as notification_services
    from kontaktbok.notifications import vapid

    settings.NOTIFY_WINDOW_START = dt.time(12, 0)  # the window is closed at 08:55
    give_phones(world.guardian_a)
    with PushReceiver(vapid_public_key=vapid.public_key()).running() as push:
        phone, laptop = push.subscription(), push.subscription()
        for device, name in ((phone, "phone"), (laptop, "laptop")):
            notification_services.push_subscription_save(
                actor=world.guardian_a,
                endpoint=device.endpoint,
                p256dh=device.p256dh,
                auth=device.auth,
                device=name,
            )
        with at(8, 55), outbox():
            register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
        pushes = push.pushes

    [alert] = notifications(ALERT)
    assert alert.read_at is None  # in-app: in the guardian's list, unread
    rows = Delivery.objects.filter(notification=alert)
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "push", "push", "sms"]
    assert set(rows.values_list("status", flat=True)) == {"delivered"}
    assert len(smtp_server.messages) == 1
    assert [r["body"]["to"] for r in sms_gateway.accepted()] == ["+4791300000"]
    assert sorted(p.endpoint for p in pushes) == sorted([phone.endpoint, laptop.endpoint])
    assert all(
        {k.lower(): v for k, v in p.headers.items()}.get("urgency") == "high" for p in pushes
    )
    assert pushes[0].payload["title"] == "Anna er ikkje på skulen"


def test_one_channel_failing_does_not_stop_the_others_and_is_on_the_timeline(
    world, outbox, smtp_server, sms_gateway
):
    give_phones(world.guardian_a)
    sms_gateway.answers = [422]  # the gateway refuses the number: a permanent failure
    with at(8, 55), outbox():
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    case = case_of(world.child_a)
    [alert] = notifications(ALERT)
    assert delivered(alert) == {"email": "delivered", "sms": "failed"}
    assert len(smtp_server.messages) == 1
    assert [r["status"] for r in sms_gateway.received] == [422]
    alerts = [
        e for e in lookup_timeline(world.office, case) if e.kind == "alert" and e.step == "alert"
    ]
    assert [(e.channel, e.status) for e in alerts] == [("email", "delivered"), ("sms", "failed")]
    assert alerts[1].detail.startswith("422")
    # The guardian sees the failure too, without the provider's answer.
    mine = lookup_timeline(world.guardian_a, case, as_guardian=True)
    assert [(e.channel, e.status, e.detail) for e in mine if e.kind == "alert"] == [
        ("email", "delivered", ""),
        ("sms", "failed", ""),
    ]


def lookup_timeline(actor: Any, case: LookupCase, as_guardian: bool = False) -> list:
    from kontaktbok.absence.lookup import selectors

    return selectors.timeline(actor=actor, case=case, as_guardian=as_guardian)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("", "Anna er ikkje på skulen"),
        ("nb", "Anna er ikke på skolen"),
        ("en", "Anna is not at school"),
    ],
)
def test_the_alert_is_in_the_guardians_language(world, outbox, language, title):
    world.guardian_a.language = language
    world.guardian_a.save(update_fields=["language"])
    with translation.override("en"), at(8, 55), outbox():  # the teacher's language is no matter
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    [alert] = notifications(ALERT)
    rendered = channels.render(alert)
    assert rendered.title == title
    [message] = mail.outbox
    assert message.subject == title
    assert "Skule A" in message.body
    assert f"/absence/lookup/{case_of(world.child_a).pk}/" in message.body


# --- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "text"), [("on_the_way", ""), ("found", "Hos bestemor, kjem kl. 10")]
)
def test_an_answer_stops_the_escalation_and_keeps_the_case_open(world, answer, text):
    case = open_case_for_anna(world)
    with at(9, 0):
        case = lookup.lookup_answer(
            actor=world.guardian_a, case_id=case.pk, answer=answer, text=text
        )
    assert (case.status, case.answer, case.answer_text) == (Status.ANSWERED, answer, text)
    assert case.answered_at == moment(9, 0)
    assert not AbsenceReport.objects.exists()
    with at(9, 40):
        assert lookup.escalate_due() == 0
    with at(12, 0):
        assert lookup.escalate_due() == 0
    assert not notifications(ESCALATION) and not notifications(STAFF_ESCALATION)
    entry = AuditEntry.objects.get(action="absence.lookup.answered")
    assert (entry.actor, entry.role, entry.detail) == (
        world.guardian_a,
        "guardian",
        {"answer": answer},
    )


def test_the_answer_is_shown_to_the_contact_teacher_and_kontor(world):
    case = open_case_for_anna(world)
    with at(9, 0):
        lookup.lookup_answer(
            actor=world.guardian_a, case_id=case.pk, answer="found", text="Hos bestemor"
        )
    answered = notifications(ANSWERED)
    assert {n.recipient for n in answered} == {world.contact_teacher_a, world.office}
    # In the school's language (Nynorsk).
    assert answered[0].payload["answer"] == f"{label('found', 'nn')}: Hos bestemor"
    assert world.contact_teacher_b not in {n.recipient for n in answered}


def test_an_answer_is_given_once(world):
    case = open_case_for_anna(world)
    with at(9, 0):
        lookup.lookup_answer(actor=world.guardian_a, case_id=case.pk, answer="on_the_way")
        again = lookup.lookup_answer(actor=world.guardian_a, case_id=case.pk, answer="home_sick")
    assert again.answer == "on_the_way"
    assert not AbsenceReport.objects.exists()
    assert AuditEntry.objects.filter(action="absence.lookup.answered").count() == 1
    assert len(notifications(ANSWERED)) == 2  # the contact teacher and kontor, once


def test_found_needs_a_short_text(world):
    case = open_case_for_anna(world)
    with pytest.raises(ValidationError) as missing:
        lookup.lookup_answer(actor=world.guardian_a, case_id=case.pk, answer="found")
    assert "text" in missing.value.message_dict
    with pytest.raises(ValidationError) as long:
        lookup.lookup_answer(
            actor=world.guardian_a, case_id=case.pk, answer="found", text="x" * 301
        )
    assert "text" in long.value.message_dict
    with pytest.raises(ValidationError) as unknown:
        lookup.lookup_answer(actor=world.guardian_a, case_id=case.pk, answer="reported")
    assert "answer" in unknown.value.message_dict
    assert case_of(world.child_a).answer == ""


def test_only_the_pupils_guardians_may_answer(world):
    case = open_case_for_anna(world)
    for outsider in (world.guardian_b, world.contact_teacher_a, world.office):
        with pytest.raises(Http404):
            lookup.lookup_answer(actor=outsider, case_id=case.pk, answer="on_the_way")


def test_a_closed_case_takes_no_answer(world):
    case = open_case_for_anna(world)
    lookup.lookup_close(actor=world.office, case_id=case.pk, outcome="found")
    with pytest.raises(ValidationError):
        lookup.lookup_answer(actor=world.guardian_a, case_id=case.pk, answer="on_the_way")


def test_a_report_after_the_alert_closes_the_case(world):
    case = open_case_for_anna(world)
    with at(9, 10):
        sick_report(world, world.guardian_a, world.child_a)
    case.refresh_from_db()
    assert (case.status, case.answer, case.outcome) == (Status.CLOSED, "reported", "found")
    assert (case.answered_by, case.answered_at) == (world.guardian_a, moment(9, 10))
    with at(9, 40):
        assert lookup.escalate_due() == 0
    assert [e[0] for e in steps(world.office, case)][-2:] == ["answered", "closed"]


def test_a_report_for_another_day_leaves_the_case_open(world):
    case = open_case_for_anna(world)
    with at(9, 10):
        services.absence_report_create(
            actor=world.guardian_a,
            pupil_id=world.child_a.pk,
            start_date=TODAY + dt.timedelta(days=1),
            end_date=TODAY + dt.timedelta(days=1),
            absence_type=world.school.absence_types.get(code="sick"),
        )
    case.refresh_from_db()
    assert case.status == Status.OPEN


# --- escalation -----------------------------------------------------------------------------


def test_escalation_catches_up_once_after_the_scheduler_was_down(world):
    case = open_case_for_anna(world)
    assert case.escalate_at == moment(9, 35)
    with at(10, 30):
        assert lookup.escalate_due() == 1
        assert lookup.escalate_due() == 0
    with at(10, 31):
        assert lookup.escalate_due() == 0
    case.refresh_from_db()
    assert (case.status, case.escalated_at) == (Status.ESCALATED, moment(10, 30))
    assert len(notifications(ESCALATION)) == 1
    assert len(notifications(STAFF_ESCALATION)) == 3
    assert AuditEntry.objects.filter(action="absence.lookup.escalated").count() == 1


def test_staff_escalation_goes_to_the_contact_teacher_leiing_and_kontor_only(world):
    case = open_case_for_anna(world)
    with at(9, 35):
        assert lookup.escalate_due() == 1
    assert recipients(STAFF_ESCALATION) == {world.contact_teacher_a, world.leadership, world.office}
    [to_teacher] = notifications(STAFF_ESCALATION, recipient=world.contact_teacher_a)
    body = channels.render(to_teacher).body
    assert "30–45" in body and "112" in body and "02800" in body
    [to_office] = notifications(STAFF_ESCALATION, recipient=world.office)
    assert to_office.dedup_key == f"lookup:{case.pk}:escalation"
    assert to_office.payload["group"] == "4A"
    assert world.other_leadership not in recipients(STAFF_ESCALATION)


def test_an_escalated_case_can_still_be_answered_and_stays_open(world):
    case = open_case_for_anna(world)
    with at(9, 40):
        lookup.escalate_due()
        case = lookup.lookup_answer(actor=world.guardian_a, case_id=case.pk, answer="on_the_way")
    assert case.status == Status.ANSWERED and case.escalated_at == moment(9, 40)
    with at(10, 30):
        assert lookup.escalate_due() == 0


def test_yesterdays_open_case_is_not_escalated_today(world):
    case = open_case_for_anna(world)
    with at(8, 0, day=TODAY + dt.timedelta(days=1)):
        assert lookup.escalate_due() == 0
    case.refresh_from_db()
    assert case.status == Status.OPEN


# --- missing registration -------------------------------------------------------------------


def test_classes_without_registration_alert_the_contact_teacher_and_kontor_once(world, outbox):
    register_4a = register  # 4A registers; 9B forgets
    with at(8, 40):
        register_4a(world.contact_teacher_a, world.class_a, {world.child_a: "present"})
    with at(9, 14):
        lookup.alert_missing_registrations()
    assert not notifications("absence.registration_missing")
    with at(9, 15), outbox():
        # 9B; 4A at the other school has nobody to tell (no contact teacher, no kontor).
        assert lookup.alert_missing_registrations() == 1
    with at(9, 16):
        assert lookup.alert_missing_registrations() == 0
    [teacher] = notifications("absence.registration_missing")
    assert teacher.recipient == world.contact_teacher_b
    assert teacher.urgent and teacher.payload == {"group": "9B"}
    assert teacher.dedup_key == f"registration-missing:{world.class_b.pk}:2026-11-24"
    assert teacher.url == f"/absence/groups/{world.class_b.pk}/register/"
    # Kontor gets one alert for the school, listing the classes.
    [office] = notifications("absence.registration_missing_office")
    assert office.recipient == world.office
    assert office.urgent and office.payload == {"groups": "9B", "count": 1}
    assert office.dedup_key == f"registration-missing:school:{world.school.pk}:2026-11-24"
    assert office.url == f"/absence/schools/{world.school.pk}/checks/"


def test_no_missing_registration_alert_on_a_day_without_school(world):
    with at(9, 30, day=dt.date(2026, 11, 28)):
        assert lookup.alert_missing_registrations() == 0
    assert not notifications("absence.registration_missing")


# --- closing by staff -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "text"),
    [("arrived", ""), ("found", ""), ("police", "Politiet varsla 10:20"), ("other", "Sjå logg")],
)
def test_staff_close_a_case_with_its_outcome(world, outcome, text):
    case = open_case_for_anna(world)
    with at(10, 30):
        closed = lookup.lookup_close(
            actor=world.contact_teacher_a, case_id=case.pk, outcome=outcome, text=text
        )
    assert (closed.status, closed.outcome, closed.outcome_text) == (Status.CLOSED, outcome, text)
    assert (closed.closed_by, closed.closed_at) == (world.contact_teacher_a, moment(10, 30))
    entry = AuditEntry.objects.get(action="absence.lookup.closed")
    assert (entry.role, entry.detail) == ("contact_teacher", {"outcome": outcome})
    with at(10, 45):
        assert lookup.escalate_due() == 0


def test_closing_as_other_needs_a_text(world):
    case = open_case_for_anna(world)
    with pytest.raises(ValidationError) as missing:
        lookup.lookup_close(actor=world.office, case_id=case.pk, outcome="other", text="  ")
    assert "text" in missing.value.message_dict
    with pytest.raises(ValidationError) as unknown:
        lookup.lookup_close(actor=world.office, case_id=case.pk, outcome="gone")
    assert "outcome" in unknown.value.message_dict
    assert case_of(world.child_a).status == Status.OPEN


def test_a_closed_case_cannot_be_closed_again(world):
    case = open_case_for_anna(world)
    lookup.lookup_close(actor=world.office, case_id=case.pk, outcome="found")
    with pytest.raises(ValidationError) as closed:
        lookup.lookup_close(actor=world.leadership, case_id=case.pk, outcome="police")
    assert closed.value.code == "closed"
    assert case_of(world.child_a).outcome == "found"


def test_only_staff_who_see_the_pupil_may_close(world):
    case = open_case_for_anna(world)
    for outsider in (world.contact_teacher_b, world.other_leadership, world.guardian_a):
        with pytest.raises(Http404):
            lookup.lookup_close(actor=outsider, case_id=case.pk, outcome="found")
    assert case_of(world.child_a).status == Status.OPEN


def test_sms_text_carries_the_link_and_the_schools_phone(world, outbox, sms_gateway):
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"phone": "+47 57 11 22 33"}
    )
    give_phones(world.guardian_a)
    with at(8, 55), outbox():
        register(world.contact_teacher_a, world.class_a, {world.child_a: "absent"})
    [sms] = sms_gateway.accepted()
    text = sms["body"]["text"]
    assert text.startswith("Anna er ikkje på skulen: ")
    assert "+47 57 11 22 33" in text
    assert text.endswith(f"/absence/lookup/{case_of(world.child_a).pk}/")


def test_notifications_dedup_is_per_case_and_step(world):
    case = open_case_for_anna(world)
    keys = set(Notification.objects.values_list("dedup_key", flat=True))
    assert keys == {f"lookup:{case.pk}:alert"}
