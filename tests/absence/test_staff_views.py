"""Staff pages for absence: registration, the daily check, statistics, a pupil's history and
the school's check status; need to know, scoping and query counts."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontaktbok.absence import selectors, services
from kontaktbok.absence.models import AttendanceMark, DailyCheck
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import AbsenceType, Group
from tests import factories

TODAY = dt.date(2026, 11, 24)
COMMENT = "Hentar ho klokka elleve"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report_today(world, pupil, code: str = "dentist", comment: str = COMMENT):
    return services.absence_report_create(
        actor=world.guardian_a if pupil in (world.child_a, world.child_a2) else world.guardian_b,
        pupil_id=pupil.pk,
        start_date=TODAY,
        end_date=TODAY,
        absence_type=AbsenceType.objects.get(school=world.school, code=code),
        comment=comment,
    )


def plain_teacher(world, group: Group):
    member = factories.staff_member(world.school, "Plain Teacher")
    school_services.staff_role_grant(actor=None, member=member, role="teacher", group=group)
    return member.user


def register_url(group: Group, **query: str) -> str:
    url = reverse("attendance_register", args=[group.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def pupil_row(html: str, pupil) -> str:
    """The registration sheet's row for one pupil."""
    match = re.search(rf'<tr[^>]*data-pupil="{pupil.pk}".*?</tr>', html, re.S)
    assert match, f"no row for {pupil}"
    return match.group(0)


def type_names(world, code: str = "dentist") -> list[str]:
    item = AbsenceType.objects.get(school=world.school, code=code)
    return [item.name_nn, item.name_nb, item.name_en]


# --- registration -----------------------------------------------------------------------


def test_register_shows_everyone_present_but_the_reported_and_the_report_beside_the_pupil(
    world,
):
    report_today(world, world.child_a)
    response = signed_in(world.contact_teacher_a).get(register_url(world.class_a))
    assert response.status_code == 200
    html = response.content.decode()
    row_a = pupil_row(html, world.child_a)
    assert 'data-testid="report-note"' in row_a
    assert "Tannlege" in row_a and COMMENT in row_a  # the contact teacher needs to know
    assert 'data-testid="report-note"' not in pupil_row(html, world.child_b)
    # "All present" is the default, but for a pupil reported away for the whole day.
    assert re.search(rf'id="status-{world.child_b.pk}-present"[^>]*checked', html)
    assert re.search(rf'id="status-{world.child_a.pk}-absent"[^>]*checked', html)
    assert response.context["sheet"].registered is False


def test_register_all_present_but_one_reported_and_one_unexplained(world):
    third = factories.pupil(world.class_a, "Tredje")
    report_today(world, world.child_a)
    client = signed_in(world.contact_teacher_a)
    response = client.post(
        register_url(world.class_a, date=TODAY.isoformat()),
        {f"status-{world.child_a.pk}": "absent", f"status-{world.child_b.pk}": "absent"},
    )
    assert response.status_code == 302
    assert response["Location"] == register_url(world.class_a, date=TODAY.isoformat())
    marks = {m.pupil_id: m for m in AttendanceMark.objects.filter(group=world.class_a, date=TODAY)}
    assert marks[world.child_a.pk].status == "absent"
    assert marks[world.child_b.pk].status == "absent"
    assert marks[third.pk].status == "present"
    assert marks[world.child_a.pk].registered_by == world.contact_teacher_a

    page = client.get(response["Location"])
    assert [m.message for m in page.context["messages"]]
    rows = {r.pupil.pk: r for r in page.context["sheet"].rows}
    assert rows[world.child_a.pk].explanation == "reported"
    assert rows[world.child_b.pk].explanation == "unexplained"
    assert rows[third.pk].explanation == ""
    html = page.content.decode()
    assert 'data-color="success" data-size="sm" data-testid="explanation"' in pupil_row(
        html, world.child_a
    )
    assert 'data-color="danger" data-size="sm" data-testid="explanation"' in pupil_row(
        html, world.child_b
    )


def test_register_again_replaces_and_staff_can_explain(world):
    client = signed_in(world.contact_teacher_a)
    url = register_url(world.class_a)
    client.post(url, {f"status-{world.child_b.pk}": "absent"})
    client.post(
        url,
        {
            f"status-{world.child_b.pk}": "late",
            f"minutes-{world.child_b.pk}": "10",
            f"reason-{world.child_b.pk}": "Bussen var sein",
        },
    )
    mark = AttendanceMark.objects.get(pupil=world.child_b, date=TODAY)
    assert (mark.status, mark.late_minutes, mark.staff_reason) == ("late", 10, "Bussen var sein")
    sheet = selectors.day_sheet(actor=world.contact_teacher_a, group=world.class_a, date=TODAY)
    assert next(r for r in sheet.rows if r.pupil == world.child_b).explanation == "staff"


@pytest.mark.parametrize(
    ("data", "query"),
    [
        ({"status-{b}": "late"}, {}),  # late without minutes
        ({"status-{b}": "late", "minutes-{b}": "ti"}, {}),
        ({"status-{b}": "gone"}, {}),
        ({"status-{b}": "absent"}, {"date": "2026-11-25"}),  # a day that has not come
    ],
)
def test_register_bad_input_saves_nothing(world, data, query):
    client = signed_in(world.contact_teacher_a)
    data = {k.format(b=world.child_b.pk): v for k, v in data.items()}
    response = client.post(register_url(world.class_a, **query), data)
    assert response.status_code == 400
    assert response.context["errors"]
    assert 'data-testid="register-errors"' in response.content.decode()
    assert not AttendanceMark.objects.exists()


def test_register_per_lesson_where_the_school_registers_by_lesson(world):
    school_services.school_settings_update(
        actor=world.school_admin, school=world.school, data={"registers_by_lesson": True}
    )
    client = signed_in(world.contact_teacher_a)
    response = client.get(register_url(world.class_a, lesson="2"))
    assert response.context["lesson"] == 2
    assert list(response.context["lessons"]) == [1, 2, 3, 4, 5, 6]
    response = client.post(
        register_url(world.class_a, date=TODAY.isoformat(), lesson="2"),
        {f"status-{world.child_a.pk}": "absent"},
    )
    assert response.status_code == 302
    assert "lesson=2" in response["Location"]
    assert AttendanceMark.objects.get(pupil=world.child_a).lesson == 2
    assert client.get(register_url(world.class_a, lesson="3")).context["sheet"].registered is False


def test_a_teacher_of_another_class_gets_404(world):
    client = signed_in(world.contact_teacher_b)
    for name in ("attendance_register", "daily_check", "absence_statistics"):
        url = reverse(name, args=[world.class_a.pk])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {f"status-{world.child_a.pk}": "absent"}).status_code in (
            404,
            405,
        ), name
    history = reverse("pupil_absence_history", args=[world.child_a.pk])
    assert client.get(history).status_code == 404
    assert signed_in(world.guardian_a).get(history).status_code == 404
    assert not AttendanceMark.objects.exists()
    assert not DailyCheck.objects.exists()


def test_need_to_know_a_plain_teacher_sees_absent_reported_only(world):
    report_today(world, world.child_a)
    teacher = plain_teacher(world, world.class_a)
    client = signed_in(teacher)
    row = pupil_row(client.get(register_url(world.class_a)).content.decode(), world.child_a)
    assert 'data-testid="report-note"' in row
    assert COMMENT not in row
    assert not any(name in row for name in type_names(world))

    history = client.get(reverse("pupil_absence_history", args=[world.child_a.pk]))
    assert history.status_code == 200
    html = history.content.decode()
    assert 'data-testid="history-report"' in html
    assert COMMENT not in html
    assert not any(name in html for name in type_names(world))
    assert history.context["show_details"] is False

    check = client.get(reverse("daily_check", args=[world.class_a.pk])).content.decode()
    assert COMMENT not in check
    assert not any(name in check for name in type_names(world))


def test_pupil_history_shows_details_to_the_contact_teacher_and_is_audited(world):
    report_today(world, world.child_a)
    url = reverse("pupil_absence_history", args=[world.child_a.pk])
    for user in (world.contact_teacher_a, world.office):
        response = signed_in(user).get(url)
        assert response.status_code == 200
        assert COMMENT in response.content.decode()
        assert "Tannlege" in response.content.decode()
    reads = AuditEntry.objects.filter(
        action="absence.history.read", object_id=str(world.child_a.pk)
    )
    assert reads.count() == 2


# --- the daily check --------------------------------------------------------------------


def test_daily_check_shows_the_day_and_records_who_and_when(world):
    report_today(world, world.child_a)
    client = signed_in(world.contact_teacher_a)
    client.post(register_url(world.class_a), {f"status-{world.child_a.pk}": "absent"})
    url = reverse("daily_check", args=[world.class_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    counts = page.context["sheet"].counts
    assert (counts["reported"], counts["absent"], counts["unexplained"]) == (1, 1, 0)
    assert page.context["sheet"].registered
    assert 'data-testid="not-checked"' in page.content.decode()

    before = clock.now()
    response = client.post(url)
    assert response.status_code == 302
    check = DailyCheck.objects.get(group=world.class_a, date=TODAY)
    assert check.checked_by == world.contact_teacher_a
    assert before <= check.checked_at <= clock.now()
    page = client.get(url)
    html = page.content.decode()
    assert 'data-testid="checked"' in html
    assert "Teacher A" in html
    assert check.checked_at.astimezone(clock.SCHOOL_TZ).strftime("%H:%M") in html
    # Marking again keeps the first check.
    signed_in(world.office).post(url)
    assert DailyCheck.objects.get(group=world.class_a).checked_by == world.contact_teacher_a


def test_reported_and_leave_absence_start_as_absent_and_a_conflict_is_warned_about(world):
    """Anna is reported sick and Bjørn has approved leave: the sheet starts them as absent
    (saving it unchanged records that, with the explanation); marking Anna present after
    all is shown on the daily check as a disagreement to sort out."""
    report_today(world, world.child_a, code="sick")
    services.leave_days_record(
        actor=world.leadership,
        pupil=world.child_b,
        start_date=TODAY,
        end_date=TODAY,
        reference="l1",
    )
    client = signed_in(world.contact_teacher_a)
    client.cookies["kontaktbok_language"] = "en"
    html = client.get(register_url(world.class_a)).content.decode()
    for pupil in (world.child_a, world.child_b):
        assert re.search(r'value="absent" checked', pupil_row(html, pupil)), pupil
    unchanged = {f"status-{p.pk}": "absent" for p in (world.child_a, world.child_b)}
    assert client.post(register_url(world.class_a), unchanged).status_code == 302
    check_url = reverse("daily_check", args=[world.class_a.pk])
    page = client.get(check_url)
    counts = page.context["sheet"].counts
    assert (counts["absent"], counts["unexplained"], counts["conflicts"]) == (2, 0, 0)
    assert 'data-testid="conflicts"' not in page.content.decode()

    changed = {**unchanged, f"status-{world.child_a.pk}": "present"}
    assert client.post(register_url(world.class_a), changed).status_code == 302
    page = client.get(check_url)
    assert page.context["sheet"].counts["conflicts"] == 1
    html = page.content.decode()
    warning = re.search(r'data-testid="conflicts".*?</div>', html, re.S).group(0)
    assert world.child_a.full_name in warning and world.child_b.full_name not in warning
    assert "reported by the guardians" in warning


def test_the_check_and_the_statistics_are_offered_only_to_those_who_may(world):
    """A plain subject teacher sees the day but is not offered "mark the day as checked"
    (it would answer "page not found") nor the statistics; the class team is offered the
    check once attendance is registered, not before."""
    world = factories.every_role(world)
    url = reverse("daily_check", args=[world.class_b.pk])
    statistics = reverse("absence_statistics", args=[world.class_b.pk])
    button = "Mark the day as checked"
    teacher = signed_in(world.teacher_b)
    teacher.cookies["kontaktbok_language"] = "en"
    page = teacher.get(url).content.decode()
    assert button not in page and 'data-testid="check-by-others"' in page
    assert teacher.post(url).status_code == 404  # what the button would have led to
    home = teacher.get(reverse("home")).content.decode()
    assert statistics not in home
    assert teacher.get(statistics).status_code == 404

    team = signed_in(world.class_team_b)
    team.cookies["kontaktbok_language"] = "en"
    page = team.get(url).content.decode()
    assert button not in page and 'data-testid="register-first"' in page
    assert statistics in team.get(reverse("home")).content.decode()
    team.post(register_url(world.class_b), {})
    page = team.get(url).content.decode()
    assert button in page and 'data-testid="register-first"' not in page


def test_daily_check_counts_unexplained_absence(world):
    client = signed_in(world.contact_teacher_a)
    client.post(register_url(world.class_a), {f"status-{world.child_b.pk}": "absent"})
    page = client.get(reverse("daily_check", args=[world.class_a.pk]))
    assert page.context["sheet"].counts["unexplained"] == 1
    assert [r.pupil for r in page.context["unexplained"]] == [world.child_b]


# --- statistics -------------------------------------------------------------------------


def test_statistics_for_the_class_team_office_and_leadership_only(world):
    client = signed_in(world.contact_teacher_a)
    client.post(
        register_url(world.class_a, date="2026-11-23"), {f"status-{world.child_b.pk}": "absent"}
    )
    client.post(register_url(world.class_a), {f"status-{world.child_b.pk}": "absent"})
    url = reverse("absence_statistics", args=[world.class_a.pk])
    response = client.get(url)
    assert response.status_code == 200
    rows = {r.pupil.pk: r for r in response.context["rows"]}
    assert rows[world.child_b.pk].absent_days == 2
    assert rows[world.child_b.pk].concerning  # 2 of the last 20 school days is 10 %
    assert 'data-testid="concerning"' in response.content.decode()
    assert "23.11." in response.content.decode()  # the underlying days are shown
    assert rows[world.child_a.pk].absent_days == 0
    assert response.context["total_days"] == 2
    for user in (world.office, world.leadership):
        assert signed_in(user).get(url).status_code == 200
    for user in (plain_teacher(world, world.class_a), world.contact_teacher_b, world.guardian_a):
        assert signed_in(user).get(url).status_code == 404
    assert signed_in(world.other_leadership).get(url).status_code == 404


# --- the school's check status ----------------------------------------------------------


def test_office_sees_which_classes_have_not_checked_after_the_deadline(world):
    services.daily_check_mark(actor=world.contact_teacher_a, group_id=world.class_a.pk)
    client = signed_in(world.office)
    url = reverse("school_check_status", args=[world.school.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["past"] is False
    states = {r.group.name: r for r in response.context["rows"]}
    assert states["4A"].check is not None and not states["9B"].late

    with time_machine.travel("2026-11-24 09:01 +0100", tick=False):
        response = signed_in(world.office).get(url)  # a new session: staff idle out
    assert response.context["past"] is True
    html = response.content.decode()
    assert re.search(r'data-group="4A" data-state="checked"', html)
    assert re.search(r'data-group="9B" data-state="late"', html)
    assert "Teacher A" in html
    assert 'data-hx-get="' + url + '"' in html and 'data-hx-trigger="every 60s"' in html


def test_school_status_partial_for_htmx(world):
    response = signed_in(world.office).get(
        reverse("school_check_status", args=[world.school.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'data-testid="school-checks"' in html
    assert "<html" not in html


def test_school_status_for_leadership_and_nobody_else(world):
    url = reverse("school_check_status", args=[world.school.pk])
    assert signed_in(world.leadership).get(url).status_code == 200
    for user in (world.contact_teacher_a, world.guardian_a, world.other_leadership):
        assert signed_in(user).get(url).status_code == 404


# --- query counts -----------------------------------------------------------------------


def _big_class(world, size: int) -> tuple[Group, Any]:
    year = world.class_a.school_year
    group = school_services.group_create(actor=None, school_year=year, name=f"Stor{size}", grade=5)
    pupils = [factories.pupil(group) for _ in range(size)]
    guardian = factories.user("Forelder")
    for pupil in pupils[:3]:
        school_services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
        services.absence_report_create(
            actor=guardian,
            pupil_id=pupil.pk,
            start_date=TODAY,
            end_date=TODAY,
            absence_type=AbsenceType.objects.get(school=world.school, code="sick"),
            comment="x",
        )
    member = factories.staff_member(world.school, f"Lærar {size}")
    school_services.staff_role_grant(actor=None, member=member, role="contact_teacher", group=group)
    services.attendance_register(
        actor=member.user,
        group_id=group.pk,
        date=TODAY,
        marks=[services.Mark(pupil_id=p.pk, status="absent") for p in pupils[:5]],
    )
    return group, member.user


def _count(client: Client, url: str, django_assert_max_num_queries) -> int:
    client.get(url)  # warm the session and the caches
    with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["attendance_register", "daily_check"])
def test_query_count_is_the_same_for_10_and_300_pupils(world, name, django_assert_max_num_queries):
    counts = []
    for size in (10, 300):
        group, teacher = _big_class(world, size)
        url = reverse(name, args=[group.pk])
        counts.append(_count(signed_in(teacher), url, django_assert_max_num_queries))
    assert counts[0] == counts[1]
