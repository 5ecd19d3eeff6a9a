"""The lookup pages (etterlysing): the guardian answers with one tap, staff follow the case
and close it, kontor and leiing watch the school's live overview; who sees what, and the
overview's query count.

Pages are read in English (the source language) so that texts can be asserted on."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontaktbok.absence.context_processors import lookup as lookup_context
from kontaktbok.absence.lookup import services as lookup_services
from kontaktbok.absence.models import AbsenceReport, AttendanceMark, LookupCase
from kontaktbok.absence.services import Mark, attendance_register
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools import access
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import School
from tests import factories
from tests.absence.lookup_factories import look_up_from_now, open_case

OSLO = ZoneInfo("Europe/Oslo")
TODAY = dt.date(2026, 11, 24)
PHONE = "+47 55 12 34 56"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["kontaktbok_language"] = "en"
    return client


@pytest.fixture
def case(world) -> LookupCase:
    """Aksel (9B, guardian_a's child) registered absent by 9B's contact teacher."""
    School.objects.filter(pk=world.school.pk).update(phone=PHONE)
    return open_case(teacher=world.contact_teacher_b, group=world.class_b, pupil=world.child_a2)


def case_url(case: LookupCase) -> str:
    return reverse("lookup_case", args=[case.pk])


def answer_url(case: LookupCase) -> str:
    return reverse("lookup_answer", args=[case.pk])


def close_url(case: LookupCase) -> str:
    return reverse("lookup_close", args=[case.pk])


def by_testid(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}"', html)


# --- the guardian ---------------------------------------------------------------------


def test_guardian_sees_the_question_the_school_phone_and_three_answers(world, case):
    response = signed_in(world.guardian_a).get(case_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Aksel is not at school" in html
    assert "tell the school straight away" in html
    assert 'href="tel:+4755123456"' in html
    answers = re.findall(r'name="answer" value="([a-z_]+)"', html)
    assert answers == ["home_sick", "on_the_way", "found"]
    assert html.count(f'action="{answer_url(case)}"') == 3
    assert html.count("csrfmiddlewaretoken") >= 3
    assert '<label class="ds-label" for="answer-text">' in html
    # The alert sent to her is on her timeline; no close form for a guardian.
    assert by_testid(html, "event")
    assert 'data-kind="alert"' in html
    assert close_url(case) not in html


def test_home_sick_in_one_tap_reports_the_absence_and_closes_the_case(world, case):
    client = signed_in(world.guardian_a)
    response = client.post(answer_url(case), {"answer": "home_sick"})
    assert response.status_code == 302
    assert response["Location"] == case_url(case)
    case.refresh_from_db()
    assert case.status == LookupCase.Status.CLOSED
    assert case.answer == LookupCase.Answer.HOME_SICK
    report = AbsenceReport.objects.get(pupil=world.child_a2)
    assert report.absence_type.code == "sick"

    # A double tap changes nothing.
    assert client.post(answer_url(case), {"answer": "home_sick"}).status_code == 302
    assert AbsenceReport.objects.filter(pupil=world.child_a2).count() == 1
    answered = AuditEntry.objects.filter(action="absence.lookup.answered", object_id=case.pk)
    assert answered.count() == 1

    html = client.get(case_url(case)).content.decode()
    assert 'data-answer="home_sick"' in html
    assert not by_testid(html, "lookup-answers")
    assert by_testid(html, "lookup-closed")
    assert "The school can see your answer now" in html  # the message after the answer


def test_on_the_way_stays_open_and_staff_see_the_answer(world, case):
    client = signed_in(world.guardian_a)
    assert client.post(answer_url(case), {"answer": "on_the_way"}).status_code == 302
    case.refresh_from_db()
    assert case.status == LookupCase.Status.ANSWERED
    assert case.is_open

    html = client.get(case_url(case)).content.decode()
    assert not by_testid(html, "lookup-answers")
    assert 'data-answer="on_the_way"' in html
    assert "stays open until Aksel arrives" in html

    staff = signed_in(world.contact_teacher_b).get(case_url(case)).content.decode()
    answer = re.search(r'data-testid="lookup-answer".*?</div>', staff, re.S)
    assert answer and "Found, on the way" in answer.group(0)
    assert "Guardian A" in answer.group(0)
    assert 'data-status="answered"' in staff
    assert 'data-kind="answered"' in staff


def test_found_needs_a_text_and_the_draft_is_kept(world, case):
    client = signed_in(world.guardian_a)
    response = client.post(answer_url(case), {"answer": "found", "text": "   "})
    assert response.status_code == 400
    html = response.content.decode()
    assert by_testid(html, "lookup-errors")
    assert "Write in a few words where your child is." in html
    assert 'aria-invalid="true"' in html

    draft = "Hos bestemor i Bygdavegen, " + "x" * 290
    response = client.post(answer_url(case), {"answer": "found", "text": draft})
    assert response.status_code == 400
    assert f'value="{draft}"' in response.content.decode()
    case.refresh_from_db()
    assert not case.answer

    response = client.post(answer_url(case), {"answer": "found", "text": "Hos bestemor"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.answer, case.answer_text, case.answered_by) == (
        "found",
        "Hos bestemor",
        world.guardian_a,
    )
    html = client.get(case_url(case)).content.decode()
    assert "Hos bestemor" in html


def test_after_the_window_the_guardian_is_told_to_consider_the_police(world, case):
    later = dt.datetime(2026, 11, 24, 9, 0, tzinfo=OSLO)  # the window is 40 minutes
    with time_machine.travel(later, tick=False):
        assert lookup_services.escalate_due() == 1
        html = signed_in(world.guardian_a).get(case_url(case)).content.decode()
        staff = signed_in(world.office).get(case_url(case)).content.decode()
    assert by_testid(html, "lookup-escalated")
    assert "112" in html
    assert by_testid(html, "lookup-answers")  # she can still answer
    assert 'data-status="escalated"' in staff
    assert 'data-kind="escalated"' in staff
    assert "escalated at 09:00" in staff
    # Staff are told what the routine says, and the case stands out on the overview.
    routine = re.search(r'data-testid="lookup-routine">.*?</div>', staff, re.S).group(0)
    assert "30–45" in routine and "112" in routine and "02800" in routine
    with time_machine.travel(later, tick=False):
        overview = signed_in(world.office).get(overview_url(world.school)).content.decode()
    card = re.search(
        rf'<li class="ds-card kb-escalated"[^>]*data-case="{case.pk}".*?</li>', overview, re.S
    )
    assert card and by_testid(card.group(0), "escalated-note")


def test_an_unknown_answer_is_refused(world, case):
    response = signed_in(world.guardian_a).post(answer_url(case), {"answer": "maybe"})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == LookupCase.Status.OPEN


def test_another_family_gets_404(world, case):
    client = signed_in(world.guardian_b)
    assert client.get(case_url(case)).status_code == 404
    assert client.post(answer_url(case), {"answer": "home_sick"}).status_code == 404
    case.refresh_from_db()
    assert not case.answer


def test_the_guardian_sees_only_her_own_alerts(world):
    second = factories.user("Second Parent")
    school_services.guardianship_set(actor=None, guardian=second, pupil=world.child_a)
    case = open_case(teacher=world.contact_teacher_a, group=world.class_a, pupil=world.child_a)

    staff = signed_in(world.office).get(case_url(case)).content.decode()
    assert "to Guardian A" in staff and "to Second Parent" in staff

    own = signed_in(world.guardian_a).get(case_url(case)).content.decode()
    assert "to Guardian A" in own
    assert "Second Parent" not in own


def test_the_banner_on_every_page_leads_the_guardian_to_the_case(world, case):
    client = signed_in(world.guardian_a)
    html = client.get(reverse("home")).content.decode()
    assert len(by_testid(html, "lookup-banner")) == 1
    assert f'href="{case_url(case)}"' in html
    # Not on the case's own page, where the question is the page itself.
    assert not by_testid(client.get(case_url(case)).content.decode(), "lookup-banner")
    # Other families and staff see no banner.
    for user in (world.guardian_b, world.office, world.contact_teacher_b):
        assert not by_testid(signed_in(user).get(reverse("home")).content.decode(), "lookup-banner")
    # Once the case is closed, the banner is gone.
    client.post(answer_url(case), {"answer": "home_sick"})
    assert not by_testid(client.get(reverse("home")).content.decode(), "lookup-banner")


def test_the_banner_costs_one_query_for_a_guardian_and_none_for_staff(
    world, case, django_assert_num_queries
):
    request = RequestFactory().get("/")
    for user, queries, count in ((world.guardian_a, 1, 1), (world.office, 0, 0)):
        access.roles_of(user)  # read by every view already
        request.user = user
        with django_assert_num_queries(queries):
            assert len(lookup_context(request)["lookup_cases"]) == count
    request.user = AnonymousUser()
    assert lookup_context(request) == {}


# --- staff ----------------------------------------------------------------------------


def test_staff_see_the_case_and_the_timeline(world, case):
    for user in (world.contact_teacher_b, world.office):
        response = signed_in(user).get(case_url(case))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Missing pupil: Aksel" in html
        assert 'data-status="open"' in html
        assert "9B" in html
        kinds = re.findall(r'data-testid="event" data-kind="([a-z]+)"', html)
        assert kinds[:2] == ["registered", "opened"]
        assert "alert" in kinds
        assert by_testid(html, "delivery")
        assert f'action="{close_url(case)}"' in html
        assert '<legend class="ds-label">How did it end?' in html
    read = AuditEntry.objects.filter(action="absence.lookup.read", object_id=case.pk)
    assert read.count() == 2


def test_staff_close_the_case_with_an_outcome(world, case):
    client = signed_in(world.office)
    response = client.post(close_url(case), {"outcome": "found", "text": "Hos naboen"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome, case.outcome_text, case.closed_by) == (
        "closed",
        "found",
        "Hos naboen",
        world.office,
    )
    html = client.get(case_url(case)).content.decode()
    assert by_testid(html, "lookup-closed")
    assert "Hos naboen" in html
    assert f'action="{close_url(case)}"' not in html
    assert 'data-kind="closed"' in html
    # Closing twice is refused with a message, not a crash.
    again = client.post(close_url(case), {"outcome": "police"})
    assert again.status_code == 400
    assert "This case is already closed." in again.content.decode()
    case.refresh_from_db()
    assert case.outcome == "found"


def test_other_needs_a_note_and_the_draft_is_kept(world, case):
    client = signed_in(world.contact_teacher_b)
    response = client.post(close_url(case), {"outcome": "other", "text": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Write what happened." in html
    assert re.search(r'id="outcome-other"[^>]*checked', html)
    response = client.post(close_url(case), {"outcome": "", "text": "Kladd"})
    assert response.status_code == 400
    assert ">Kladd</textarea>" in response.content.decode()
    case.refresh_from_db()
    assert case.is_open


def test_registering_the_pupil_present_closes_the_case_and_tells_the_guardian(world, case):
    attendance_register(
        actor=world.contact_teacher_b,
        group_id=world.class_b.pk,
        date=TODAY,
        marks=[Mark(world.child_a2.pk, AttendanceMark.Status.LATE, late_minutes=20)],
    )
    html = signed_in(world.guardian_a).get(case_url(case)).content.decode()
    assert "Aksel has come to school" in html
    assert not by_testid(html, "lookup-answers")
    # A late tap on an old alert is told the case is closed.
    late = signed_in(world.guardian_a).post(answer_url(case), {"answer": "on_the_way"})
    assert late.status_code == 400
    assert "This case is closed." in late.content.decode()
    staff = signed_in(world.office).get(case_url(case)).content.decode()
    assert "Arrived at school" in staff


def test_the_class_pages_link_the_day_s_cases(world, case):
    client = signed_in(world.contact_teacher_b)
    for name in ("attendance_register", "daily_check"):
        html = client.get(reverse(name, args=[world.class_b.pk])).content.decode()
        links = html.split('data-testid="group-lookup-cases"')[1].split("</div>")[0]
        assert f'href="{case_url(case)}"' in links
        assert "Aksel" in links
        assert not by_testid(html, "lookup-banner")  # the guardians' banner is not for staff
    other = client.get(reverse("attendance_register", args=[world.class_a.pk]))
    assert not by_testid(other.content.decode(), "group-lookup-cases")


def test_a_teacher_of_another_class_gets_404(world):
    case = open_case(teacher=world.contact_teacher_a, group=world.class_a, pupil=world.child_a)
    client = signed_in(world.contact_teacher_b)
    assert client.get(case_url(case)).status_code == 404
    assert client.post(close_url(case), {"outcome": "found"}).status_code == 404
    case.refresh_from_db()
    assert case.is_open


# --- the live overview ----------------------------------------------------------------


def overview_url(school) -> str:
    return reverse("lookup_overview", args=[school.pk])


def rows_url(school) -> str:
    return reverse("lookup_overview_rows", args=[school.pk])


def test_the_overview_shows_minutes_status_last_contact_and_answer(
    world, django_capture_on_commit_callbacks
):
    at_eight = time_machine.travel(dt.datetime(2026, 11, 24, 8, 0, tzinfo=OSLO), tick=False)
    with at_eight, django_capture_on_commit_callbacks(execute=True):  # the alert is delivered
        case = open_case(teacher=world.contact_teacher_b, group=world.class_b, pupil=world.child_a2)
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 12, tzinfo=OSLO), tick=False):
        response = signed_in(world.office).get(overview_url(world.school))
    assert response.status_code == 200
    html = response.content.decode()
    card = re.search(rf'data-case="{case.pk}".*?</li>', html, re.S)
    assert card, html
    assert 'data-status="open"' in card.group(0)
    assert re.search(r'data-testid="minutes">12 min<', card.group(0))
    assert f'href="{case_url(case)}"' in card.group(0)
    assert "Aksel" in card.group(0) and "9B" in card.group(0)
    assert re.search(r'data-testid="last-contact">08:00<', card.group(0))  # the alert
    assert 'data-testid="open-count">1<' in html
    # The list polls itself; without JavaScript, a link updates it.
    assert f'data-hx-get="{rows_url(world.school)}"' in html
    assert 'data-hx-trigger="every 15s"' in html
    assert 'http-equiv="refresh"' not in html
    assert f'href="{overview_url(world.school)}"' in html
    # Paused: no polling.
    paused = signed_in(world.office).get(overview_url(world.school) + "?live=0").content.decode()
    assert "data-hx-get" not in paused.split('id="lookup-rows"')[1].split(">")[0]

    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 20, tzinfo=OSLO), tick=False):
        signed_in(world.guardian_a).post(answer_url(case), {"answer": "on_the_way"})
        rows = signed_in(world.office).get(rows_url(world.school))
    assert rows.status_code == 200
    part = rows.content.decode()
    assert "<html" not in part
    assert part.lstrip().startswith('<div id="lookup-rows"')
    assert 'data-status="answered"' in part
    assert re.search(r'data-testid="last-contact">08:20<', part)
    assert "Found, on the way" in part


def test_the_overview_is_empty_at_first_and_lists_closed_cases_apart(world):
    client = signed_in(world.leadership)
    html = client.get(overview_url(world.school)).content.decode()
    assert by_testid(html, "lookup-empty")
    case = open_case(teacher=world.contact_teacher_b, group=world.class_b, pupil=world.child_a2)
    signed_in(world.office).post(close_url(case), {"outcome": "police"})
    html = client.get(overview_url(world.school)).content.decode()
    assert by_testid(html, "lookup-empty")
    closed = html.split('data-testid="closed-cases"')[1]
    assert f'data-case="{case.pk}"' in closed
    assert "police contacted" in closed


def test_the_overview_is_for_kontor_and_leiing_of_the_school(world):
    assert signed_in(world.other_leadership).get(overview_url(world.school)).status_code == 404
    assert signed_in(world.other_leadership).get(rows_url(world.school)).status_code == 404
    assert signed_in(world.contact_teacher_b).get(overview_url(world.school)).status_code == 404
    assert signed_in(world.leadership).get(overview_url(world.school)).status_code == 200


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["lookup_overview", "lookup_overview_rows"])
def test_the_overview_query_count_is_the_same_for_1_and_20_cases(world, name):
    look_up_from_now(world.school)
    url = reverse(name, args=[world.school.pk])
    client = signed_in(world.office)
    client.get(url)  # the session's first request saves it once
    attendance_register(
        actor=world.contact_teacher_b,
        group_id=world.class_b.pk,
        date=TODAY,
        marks=[Mark(world.child_a2.pk, "absent")],
    )
    one = _queries(client, url)
    pupils = [factories.pupil(world.class_b) for _ in range(19)]
    for pupil in pupils:
        school_services.guardianship_set(actor=None, guardian=world.guardian_b, pupil=pupil)
    attendance_register(
        actor=world.contact_teacher_b,
        group_id=world.class_b.pk,
        date=TODAY,
        marks=[Mark(p.pk, "absent") for p in [world.child_a2, *pupils]],
    )
    signed_in(world.guardian_b).post(
        answer_url(LookupCase.objects.get(pupil=pupils[0])), {"answer": "on_the_way"}
    )
    assert LookupCase.objects.filter(school=world.school).count() == 20
    twenty = _queries(client, url)
    assert one == twenty
    assert twenty <= 15


def test_a_report_that_answers_the_case_reads_it_with_the_child(
    world, case, django_assert_max_num_queries
):
    """The guardian's report POST closes today's case without a read of its own: the case
    comes with the child's read (the morning benchmark's budget is 15 queries)."""
    from kontaktbok.schools.models import AbsenceType

    client = signed_in(world.guardian_a)
    url = reverse("absence_report_create", args=[world.child_a2.pk])
    kind = AbsenceType.objects.filter(school=world.school).first()
    today = case.date.isoformat()
    data = {"start_date": today, "end_date": today, "day_part": "whole", "absence_type": kind.pk}
    with django_assert_max_num_queries(14):  # 12 and the two of the savepoint
        assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert case.status == LookupCase.Status.CLOSED and case.answer == "reported"
    actions = set(
        AuditEntry.objects.filter(object_id=str(case.pk)).values_list("action", flat=True)
    )
    assert {"absence.lookup.answered", "absence.lookup.closed"} <= actions
