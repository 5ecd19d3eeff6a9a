"""The guardian's absence pages: meld fråvær, change, withdraw, and the child's overview.

The autouse fixture freezes time at Tuesday 24 November 2026, 07:45 in Oslo. The report
window is then Monday 23 November to Monday 7 December (ten school days from today)."""

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.urls import reverse

from kontaktbok.absence import services
from kontaktbok.absence.models import AbsenceReport
from kontaktbok.core.audit import AuditEntry
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import AbsenceType
from tests import factories

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def client_en(client):
    """English, the source language, so that messages can be asserted on."""
    client.cookies["kontaktbok_language"] = "en"
    return client


def sick(school) -> AbsenceType:
    return school.absence_types.get(code="sick")


def form_data(school, **changes) -> dict:
    data = {
        "start_date": TODAY.isoformat(),
        "end_date": TODAY.isoformat(),
        "day_part": "whole",
        "start_time": "",
        "end_time": "",
        "absence_type": sick(school).pk,
        "comment": "",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(changes)
    return data


def create_url(pupil) -> str:
    return reverse("absence_report_create", args=[pupil.pk])


def child_url(pupil) -> str:
    return reverse("absence_child", args=[pupil.pk])


def report(world, **changes) -> AbsenceReport:
    """A report by guardian_a for child_a (4A), through the service."""
    arguments = {
        "start_date": TODAY,
        "end_date": TODAY,
        "absence_type": sick(world.school),
    }
    arguments.update(changes)
    return services.absence_report_create(
        actor=world.guardian_a, pupil_id=world.child_a.pk, **arguments
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- meld fråvær --------------------------------------------------------------------------


def test_the_form_shows_deadline_window_and_the_schools_active_types(world, client_en):
    school = world.school
    doctor = school.absence_types.get(code="doctor")
    doctor.active = False
    doctor.save()
    client_en.force_login(world.guardian_a)
    response = client_en.get(create_url(world.child_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Report by 08:30 on the day; later reports are marked late." in page
    assert "Monday 23 November" in page and "Monday 7 December 2026" in page
    assert 'type="date"' in page and 'type="time"' in page
    assert "You do not need to give any health details." in page
    labels = set(re.findall(r'for="id_absence_type_\d+">([^<]+)<', page))
    assert "Sick" in labels and "Dentist" in labels and "Doctor" not in labels
    assert f'value="{TODAY.isoformat()}"' in page
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', page)


def test_a_report_before_the_deadline_is_on_time_and_listed(world, client_en):
    client_en.force_login(world.guardian_a)
    data = form_data(world.school, comment="Feber")
    response = client_en.post(create_url(world.child_a), data, follow=True)
    assert response.redirect_chain == [(child_url(world.child_a), 302)]
    (item,) = AbsenceReport.objects.all()
    assert (item.pupil, item.reported_by, item.late) == (world.child_a, world.guardian_a, False)
    assert item.whole_day and item.comment == "Feber"
    assert messages_of(response) == [
        "Absence reported for Anna: 1 school day. It was reported in time."
    ]
    page = response.content.decode()
    assert "Sick, the whole day" in page and "Reported by you" in page
    assert 'data-testid="late"' not in page


@pytest.mark.parametrize(
    ("moment", "late"),
    [
        ("2026-11-24 08:29:59 +0100", False),
        ("2026-11-24 08:30:00 +0100", True),
        # The day after the clocks went back (Sunday 25 October 2026): 08:29 is 07:29 UTC.
        ("2026-10-26 08:29:00 +0100", False),
        ("2026-10-26 08:30:00 +0100", True),
    ],
)
def test_the_deadline_is_0830_school_time(world, client_en, moment, late):
    client_en.force_login(world.guardian_a)
    day = moment[:10]
    with time_machine.travel(moment, tick=False):
        response = client_en.post(
            create_url(world.child_a), form_data(world.school, start_date=day, end_date=day)
        )
    assert response.status_code == 302
    item = AbsenceReport.objects.get()
    assert item.late is late
    response = client_en.get(response.url)
    expected = "marked late" if late else "reported in time"
    assert expected in messages_of(response)[0]


@pytest.mark.parametrize(
    ("moment", "late"),
    [("2026-03-30 08:29:59 +0200", False), ("2026-03-30 08:30:00 +0200", True)],
)
def test_the_deadline_after_the_clocks_go_forward(db, client_en, moment, late):
    """Monday 30 March 2026, the day after summer time began (08:30 is 06:30 UTC)."""
    school = factories.school()
    year = school_services.school_year_create(
        actor=None,
        school=school,
        name="2025–2026",
        starts_on=dt.date(2025, 8, 18),
        ends_on=dt.date(2026, 6, 19),
        holidays=[],
    )
    group = school_services.group_create(actor=None, school_year=year, name="5A", grade=5)
    pupil = factories.pupil(group, "Vår")
    guardian = factories.user("Spring Guardian")
    school_services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
    client_en.force_login(guardian)
    with time_machine.travel(moment, tick=False):
        response = client_en.post(
            create_url(pupil),
            form_data(school, start_date="2026-03-30", end_date="2026-03-30"),
        )
    assert response.status_code == 302
    assert AbsenceReport.objects.get(pupil=pupil).late is late


def test_hours_and_several_days(world, client_en):
    client_en.force_login(world.guardian_a)
    dentist = world.school.absence_types.get(code="dentist")
    response = client_en.post(
        create_url(world.child_a),
        form_data(
            world.school,
            start_date="2026-11-27",
            end_date="2026-11-30",
            day_part="hours",
            start_time="09:00",
            end_time="11:30",
            absence_type=dentist.pk,
        ),
        follow=True,
    )
    item = AbsenceReport.objects.get()
    assert not item.whole_day
    assert (item.start_time, item.end_time) == (dt.time(9), dt.time(11, 30))
    # Friday and Monday are school days; the weekend between is not counted.
    assert "2 school days" in messages_of(response)[0]
    assert "from 09:00 to 11:30" in response.content.decode()


def test_a_double_tap_on_send_makes_one_report_and_one_message(world, client_en):
    client_en.force_login(world.guardian_a)
    data = form_data(world.school)
    first = client_en.post(create_url(world.child_a), data)
    second = client_en.post(create_url(world.child_a), data)
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == child_url(world.child_a)
    assert AbsenceReport.objects.count() == 1
    assert AuditEntry.objects.filter(action="absence.report.created").count() == 1
    response = client_en.get(child_url(world.child_a))
    assert len(messages_of(response)) == 1
    # A new form has a new token: a second report on purpose (for another day) is possible.
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    client_en.post(
        create_url(world.child_a), form_data(world.school, start_date=tomorrow, end_date=tomorrow)
    )
    assert AbsenceReport.objects.count() == 2


BAD_INPUT = [
    ({"start_date": "2026-11-26", "end_date": "2026-11-25"}, "end_date", "cannot be before"),
    ({"start_date": "2026-11-20", "end_date": "2026-11-20"}, "start_date", "back to Monday"),
    ({"start_date": "2026-12-08", "end_date": "2026-12-08"}, "end_date", "apply for leave"),
    ({"start_date": "2026-11-28", "end_date": "2026-11-29"}, "start_date", "no school days"),
    ({"start_date": "not a date"}, "start_date", "Enter a valid date"),
    ({"day_part": "hours"}, "start_time", "Give the times"),
    (
        {"day_part": "hours", "start_time": "12:00", "end_time": "10:00"},
        "end_time",
        "after the start time",
    ),
    ({"comment": "x" * 201}, "comment", "at most 200 characters"),
    ({"absence_type": ""}, "absence_type", "required"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_bad_input_is_shown_on_the_field_and_nothing_is_saved(
    world, client_en, changes, field, message
):
    client_en.force_login(world.guardian_a)
    response = client_en.post(create_url(world.child_a), form_data(world.school, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert message in response.content.decode()
    assert AbsenceReport.objects.count() == 0
    assert not AuditEntry.objects.filter(action="absence.report.created").exists()


def test_the_days_of_the_period_are_shown_after_an_error(world, client_en):
    client_en.force_login(world.guardian_a)
    response = client_en.post(
        create_url(world.child_a),
        form_data(world.school, start_date="2026-11-28", end_date="2026-11-29"),
    )
    page = response.content.decode()
    assert 'data-testid="days"' in page
    assert page.count("weekend, not counted") == 2


def test_a_type_of_another_school_or_not_in_use_is_refused(world, client_en):
    client_en.force_login(world.guardian_a)
    other = sick(world.other_school)
    retired = world.school.absence_types.get(code="funeral")
    retired.active = False
    retired.save()
    for absence_type in (other, retired):
        response = client_en.post(
            create_url(world.child_a), form_data(world.school, absence_type=absence_type.pk)
        )
        assert response.status_code == 200
        assert "Choose a type from the school's list." in " ".join(
            response.context["form"].errors["absence_type"]
        )
    assert AbsenceReport.objects.count() == 0


def test_the_second_child_at_the_same_school_uses_its_own_form(world, client_en):
    client_en.force_login(world.guardian_a)
    response = client_en.post(create_url(world.child_a2), form_data(world.school))
    assert response.status_code == 302
    assert AbsenceReport.objects.get().pupil == world.child_a2


# --- privacy ------------------------------------------------------------------------------


def test_another_familys_guardian_gets_404_everywhere(world, client):
    item = report(world)
    client.force_login(world.guardian_b)
    for url in (
        child_url(world.child_a),
        create_url(world.child_a),
        reverse("absence_report_edit", args=[item.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(create_url(world.child_a), form_data(world.school)).status_code == 404
    edit = reverse("absence_report_edit", args=[item.pk])
    assert client.post(edit, form_data(world.school, comment="x")).status_code == 404
    withdraw = reverse("absence_report_withdraw", args=[item.pk])
    assert client.post(withdraw).status_code == 404
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.ACTIVE and item.comment == ""
    assert AbsenceReport.objects.count() == 1


@pytest.mark.parametrize(
    "who", ["guardian_without_responsibility", "restricted_guardian", "contact_teacher_a"]
)
def test_no_parental_responsibility_no_access(world, client, who):
    client.force_login(getattr(world, who))
    pupil = world.protected_child if who == "restricted_guardian" else world.child_b
    assert client.get(child_url(pupil)).status_code == 404
    assert client.get(create_url(pupil)).status_code == 404


def test_anonymous_is_sent_to_login(world, client):
    response = client.get(child_url(world.child_a))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_both_guardians_see_every_report_and_who_made_it(world, client_en):
    second = factories.user("Second Guardian")
    school_services.guardianship_set(actor=None, guardian=second, pupil=world.child_a)
    report(world, comment="Omgangssjuke")
    client_en.force_login(second)
    page = client_en.get(child_url(world.child_a)).content.decode()
    assert "Reported by Guardian A" in page and "Omgangssjuke" in page
    response = client_en.post(
        create_url(world.child_a),
        form_data(world.school, start_date="2026-11-25", end_date="2026-11-25"),
    )
    assert response.status_code == 302
    client_en.force_login(world.guardian_a)
    page = client_en.get(child_url(world.child_a)).content.decode()
    assert "Reported by Second Guardian" in page and "Reported by you" in page
    assert page.count('data-testid="report"') == 2


def test_the_child_page_audits_the_read_and_shows_registered_absence(world, client_en):
    with time_machine.travel("2026-11-23 10:00 +0100", tick=False):
        services.attendance_register(
            actor=world.contact_teacher_a,
            group_id=world.class_a.pk,
            date=dt.date(2026, 11, 23),
            marks=[services.Mark(pupil_id=world.child_a.pk, status="absent")],
        )
    client_en.force_login(world.guardian_a)
    response = client_en.get(child_url(world.child_a))
    assert response.status_code == 200
    history = response.context["history"]
    assert history.absent_days == 1 and history.school_days > 0
    page = response.content.decode()
    assert 'data-testid="registered"' in page and "Absent" in page
    assert AuditEntry.objects.filter(
        action="absence.history.read", actor=world.guardian_a, role="guardian"
    ).exists()


# --- change and withdraw ------------------------------------------------------------------


def test_change_a_report(world, client_en):
    item = report(world)
    client_en.force_login(world.guardian_a)
    edit = reverse("absence_report_edit", args=[item.pk])
    page = client_en.get(edit).content.decode()
    assert f'value="{TODAY.isoformat()}"' in page
    response = client_en.post(
        edit, form_data(world.school, end_date="2026-11-25", comment="Betre i morgon?"), follow=True
    )
    assert response.redirect_chain == [(child_url(world.child_a), 302)]
    item.refresh_from_db()
    assert item.end_date == dt.date(2026, 11, 25) and item.comment == "Betre i morgon?"
    assert "was changed: 2 school days" in messages_of(response)[0]
    assert AbsenceReport.objects.count() == 1


def test_change_with_bad_input_keeps_the_report(world, client_en):
    item = report(world)
    client_en.force_login(world.guardian_a)
    edit = reverse("absence_report_edit", args=[item.pk])
    response = client_en.post(edit, form_data(world.school, end_date="2026-12-31"))
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    item.refresh_from_db()
    assert item.end_date == TODAY


def test_withdraw_a_report_asks_first_and_can_be_undone_for_a_while(world, client_en):
    item = report(world)
    client_en.force_login(world.guardian_a)
    withdraw = reverse("absence_report_withdraw", args=[item.pk])
    restore = reverse("absence_report_restore", args=[item.pk])
    # The child's page links to a question, which changes nothing by itself.
    assert f'href="{withdraw}"' in client_en.get(child_url(world.child_a)).content.decode()
    question = client_en.get(withdraw)
    assert question.status_code == 200
    assert "the school will look for Anna" in question.content.decode()
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.ACTIVE

    response = client_en.post(withdraw, follow=True)
    assert response.redirect_chain == [(child_url(world.child_a), 302)]
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.WITHDRAWN
    page = response.content.decode()
    assert "was withdrawn. You can undo it for 5 minutes." in messages_of(response)[0]
    assert "Withdrawn" in page and reverse("absence_report_edit", args=[item.pk]) not in page
    assert f'action="{restore}"' in page

    # Undone: active again, audited; a second tap changes nothing.
    response = client_en.post(restore, follow=True)
    assert "is active again" in messages_of(response)[0]
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.ACTIVE
    client_en.post(restore)
    assert AuditEntry.objects.filter(action="absence.report.restored").count() == 1

    # Five minutes after a withdrawal it is too late, and the page no longer offers it.
    client_en.post(withdraw)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5, seconds=1)
    with time_machine.travel(later, tick=False):
        assert f'action="{restore}"' not in client_en.get(child_url(world.child_a)).content.decode()
        response = client_en.post(restore, follow=True)
    assert "too late to undo" in messages_of(response)[0]
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.WITHDRAWN


def test_undo_is_refused_when_another_report_now_covers_the_time(world, client_en):
    item = report(world)
    client_en.force_login(world.guardian_a)
    client_en.post(reverse("absence_report_withdraw", args=[item.pk]))
    report(world)  # reported again meanwhile
    response = client_en.post(reverse("absence_report_restore", args=[item.pk]), follow=True)
    assert "already reported" in messages_of(response)[-1]
    assert AbsenceReport.objects.filter(status=AbsenceReport.Status.ACTIVE).count() == 1


def test_another_family_cannot_undo(world, client_en):
    item = report(world)
    client_en.force_login(world.guardian_a)
    client_en.post(reverse("absence_report_withdraw", args=[item.pk]))
    client_en.force_login(world.guardian_b)
    assert client_en.post(reverse("absence_report_restore", args=[item.pk])).status_code == 404
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.WITHDRAWN


def test_after_the_daily_check_change_and_withdraw_go_as_a_message(world, client_en):
    item = report(world)
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    client_en.force_login(world.guardian_a)
    page = client_en.get(child_url(world.child_a)).content.decode()
    edit = reverse("absence_report_edit", args=[item.pk])
    withdraw = reverse("absence_report_withdraw", args=[item.pk])
    assert edit not in page and withdraw not in page
    assert "write a message to the contact teacher" in page

    response = client_en.get(edit)
    assert response.context["locked"] is True
    assert 'data-testid="locked"' in response.content.decode()
    response = client_en.post(edit, form_data(world.school, comment="Endra"))
    assert response.status_code == 200 and response.context["locked"] is True
    assert "write a message to the contact teacher" in response.content.decode()

    response = client_en.post(withdraw, follow=True)
    assert "The class team has checked this day" in messages_of(response)[0]
    item.refresh_from_db()
    assert item.status == AbsenceReport.Status.ACTIVE and item.comment == ""


def test_a_check_of_another_class_does_not_lock_the_report(world, client_en):
    item = report(world)
    services.daily_check_mark(actor=world.contact_teacher_b, group_id=world.class_b.pk)
    client_en.force_login(world.guardian_a)
    page = client_en.get(child_url(world.child_a)).content.decode()
    assert reverse("absence_report_edit", args=[item.pk]) in page


# --- performance --------------------------------------------------------------------------


def test_the_child_page_query_count_is_flat(world, client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.guardian_a)
    url = child_url(world.child_a)
    services.daily_check_mark(actor=world.contact_teacher_b, group_id=world.class_b.pk)
    report(world)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for day in (25, 26, 27, 30):
        report(world, start_date=dt.date(2026, 11, day), end_date=dt.date(2026, 11, day))
    second = factories.user("Second Guardian")
    school_services.guardianship_set(actor=None, guardian=second, pupil=world.child_a)
    services.absence_report_create(
        actor=second,
        pupil_id=world.child_a.pk,
        start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2026, 12, 1),
        absence_type=sick(world.school),
    )
    with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('data-testid="report"') == 6
    assert len(many) == len(few), (len(few), len(many))
