"""Leave pages: guardians apply, agree, read and appeal; staff decide; the admin's rules."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.leave import services
from kontaktbok.leave.models import Appeal, Decision, LeaveApplication, LeaveRules
from tests.html_forms import post_forms
from tests.leave.helpers import MONDAY, apply, decide, second_guardian
from tests.query_counts import assert_same_count, counted

pytestmark = pytest.mark.django_db
Status = LeaveApplication.Status


def client_for(user) -> Client:
    client = Client()
    client.cookies["kontaktbok_language"] = "en"
    client.force_login(user)
    return client


def form(**changes) -> dict:
    data = {
        "start_date": MONDAY.isoformat(),
        "end_date": "2027-01-12",
        "category": "travel",
        "reason": "Bryllaup i familien.",
        "learning_plan": "Lekser med på tur.",
        "rules_confirmed": "on",
        "idempotency_key": "k1",
    }
    data.update(changes)
    return data


# --- guardians ----------------------------------------------------------------------------


def test_the_form_shows_the_schools_rules(world):
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"rules_text": "Søk i god tid, takk."}
    )
    response = client_for(world.guardian_a).get(reverse("leave_apply", args=[world.child_a.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Søk i god tid, takk." in content
    assert "I have read the school&#x27;s leave rules" in content
    assert "Apply at least 14 days before the leave." in content


def test_counting_the_days_shows_warnings_and_saves_nothing(world):
    client = client_for(world.guardian_a)
    url = reverse("leave_apply", args=[world.child_a.pk])
    response = client.post(
        url, form(start_date="2026-11-27", end_date="2026-11-30", count="1", rules_confirmed="")
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "2 school days" in content
    assert 'data-testid="late-warning"' in content
    assert not LeaveApplication.objects.exists()


def test_applying_sends_it_and_shows_the_application(world):
    client = client_for(world.guardian_a)
    response = client.post(reverse("leave_apply", args=[world.child_a.pk]), form(), follow=True)
    application = LeaveApplication.objects.get()
    assert response.redirect_chain[-1][0] == reverse("leave_application", args=[application.pk])
    content = response.content.decode()
    assert "2 school days" in content and "sent to the school" in content
    assert application.rules_confirmed and application.status == Status.SUBMITTED


def test_a_late_application_is_sent_with_a_warning(world):
    client = client_for(world.guardian_a)
    response = client.post(
        reverse("leave_apply", args=[world.child_a.pk]),
        form(start_date="2026-11-26", end_date="2026-11-26"),
        follow=True,
    )
    assert "later than the school&#x27;s lead time of 14 days" in response.content.decode()
    assert LeaveApplication.objects.get().late


def test_a_double_tap_makes_one_application(world):
    client = client_for(world.guardian_a)
    url = reverse("leave_apply", args=[world.child_a.pk])
    assert client.post(url, form()).status_code == 302
    assert client.post(url, form()).status_code == 302
    assert LeaveApplication.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_date": "2026-11-20", "end_date": "2026-11-20"}, "days that have passed"),
        ({"end_date": "2027-01-08"}, "cannot be before the first day"),
        ({"rules_confirmed": ""}, "Confirm that you have read"),
        ({"learning_plan": ""}, "This field is required"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_saved(world, changes, message):
    response = client_for(world.guardian_a).post(
        reverse("leave_apply", args=[world.child_a.pk]), form(**changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not LeaveApplication.objects.exists()


def test_an_overlapping_application_is_refused_on_the_form(world):
    apply(world)
    response = client_for(world.guardian_a).post(
        reverse("leave_apply", args=[world.child_a.pk]), form(idempotency_key="k2")
    )
    assert response.status_code == 400
    assert "There is already an application" in response.content.decode()


def test_another_familys_guardian_gets_404_everywhere(world):
    application = apply(world, MONDAY, dt.date(2027, 1, 13))
    decision = decide(world, application, Decision.Outcome.DECLINED)
    client = client_for(world.guardian_b)
    for name, args in [
        ("leave_child", [world.child_a.pk]),
        ("leave_apply", [world.child_a.pk]),
        ("leave_application", [application.pk]),
        ("leave_letter", [decision.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name in ("leave_consent", "leave_withdraw", "leave_appeal"):
        assert client.post(reverse(name, args=[application.pk]), {"text": "x"}).status_code == 404
    assert client.post(reverse("leave_apply", args=[world.child_a.pk]), form()).status_code == 404
    assert not Appeal.objects.exists()


def test_the_other_guardian_agrees_in_the_app(world):
    other = second_guardian(world)
    application = apply(world)
    client = client_for(other)
    page = client.get(reverse("leave_application", args=[application.pk])).content.decode()
    assert 'data-testid="consent-request"' in page
    response = client.post(
        reverse("leave_consent", args=[application.pk]), {"answer": "agree"}, follow=True
    )
    assert "You agreed" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    # The applicant is not asked.
    page = client_for(world.guardian_a).get(reverse("leave_application", args=[application.pk]))
    assert 'data-testid="consent-request"' not in page.content.decode()


def test_both_guardians_read_the_decision_and_the_letter(world):
    other = second_guardian(world)
    application = apply(world)
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    decision = decide(world, application)
    for guardian in (world.guardian_a, other):
        client = client_for(guardian)
        page = client.get(reverse("leave_application", args=[application.pk])).content.decode()
        assert 'data-testid="decision"' in page and "Undervisninga i heilskap" in page
        letter = client.get(reverse("leave_letter", args=[decision.pk]))
        assert letter.status_code == 200 and letter["Content-Type"] == "application/pdf"
        assert letter.content.startswith(b"%PDF")


def test_withdraw_and_appeal(world):
    client = client_for(world.guardian_a)
    first = apply(world)
    client.post(reverse("leave_withdraw", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == Status.WITHDRAWN
    second = apply(world, dt.date(2027, 2, 1))
    decide(world, second, Decision.Outcome.DECLINED)
    url = reverse("leave_appeal", args=[second.pk])
    assert client.post(url, {"text": ""}).status_code == 400
    response = client.post(url, {"text": "Vi ber om ny vurdering."}, follow=True)
    assert "The appeal was sent" in response.content.decode()
    second.refresh_from_db()
    assert second.status == Status.APPEAL_PENDING


def test_an_appeal_after_the_deadline_is_received_and_marked_late(world):
    """Refusing it would leave a guardian whose letter reached them late with nowhere to
    go: it is received, marked late, and the decider considers it (forvaltningslova § 31)."""
    import time_machine

    application = apply(world, dt.date(2027, 2, 1))
    decision = decide(world, application, Decision.Outcome.DECLINED)
    client = client_for(world.guardian_a)
    page_url = reverse("leave_application", args=[application.pk])
    assert 'data-testid="appeal-late"' not in client.get(page_url).content.decode()
    later = dt.datetime.combine(
        decision.appeal_deadline + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC
    )
    with time_machine.travel(later, tick=False):
        client = client_for(world.guardian_a)  # a new session, three weeks on
        page = client.get(page_url).content.decode()
        assert 'data-testid="appeal-late"' in page and 'data-testid="appeal-form"' in page
        response = client.post(
            reverse("leave_appeal", args=[application.pk]),
            {"text": "Brevet kom fram først i går."},
            follow=True,
        )
    assert "The appeal was sent" in response.content.decode()
    appeal = Appeal.objects.get(application=application)
    assert appeal.late
    review = client_for(world.contact_teacher_a).get(reverse("leave_review", args=[application.pk]))
    assert 'data-testid="appeal-late-tag"' in review.content.decode()
    entry = AuditEntry.objects.get(action="leave.appeal.created")
    assert entry.detail == {"late": True}


def test_the_childs_leave_page_lists_both_guardians_applications(world):
    other = second_guardian(world)
    apply(world)
    apply(world, dt.date(2027, 2, 1), actor=other)
    client = client_for(world.guardian_a)
    url = reverse("leave_child", args=[world.child_a.pk])
    client.get(url)  # the session's first request saves it once
    few = counted(client, url)
    assert few.text.count('data-testid="application"') == 2
    for n in range(5):
        apply(world, dt.date(2027, 3, 1) + dt.timedelta(days=7 * n))
    many = counted(client, url)
    assert many.text.count('data-testid="application"') == 7
    assert_same_count(few, many)


# --- staff --------------------------------------------------------------------------------


def test_the_contact_teacher_decides_from_the_queue(world):
    application = apply(world)
    client = client_for(world.contact_teacher_a)
    queue = client.get(reverse("leave_queue")).content.decode()
    assert reverse("leave_review", args=[application.pk]) in queue
    page = client.get(reverse("leave_review", args=[application.pk]))
    content = page.content.decode()
    assert 'data-testid="background"' in content and 'data-testid="decide-form"' in content
    assert AuditEntry.objects.filter(action="absence.history.read").exists()
    response = client.post(
        reverse("leave_decide", args=[application.pk]),
        {"outcome": "approved", "reasons": "Forsvarleg."},
        follow=True,
    )
    assert "The decision was made" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_a_decision_without_reasons_is_refused(world):
    application = apply(world, MONDAY, dt.date(2027, 1, 13))
    client = client_for(world.contact_teacher_a)
    url = reverse("leave_decide", args=[application.pk])
    response = client.post(url, {"outcome": "partly_approved", "reasons": "x"})
    assert response.status_code == 400
    assert "Give the first day" in response.content.decode()
    assert client.post(url, {"outcome": "approved", "reasons": ""}).status_code == 400
    assert not Decision.objects.exists()


def test_the_decider_sees_the_over_limit_warning(world):
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"max_days_per_year": 1}
    )
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    page = client_for(world.contact_teacher_a).get(reverse("leave_review", args=[application.pk]))
    assert 'data-testid="over-limit"' in page.content.decode()


def test_staff_scoping(world):
    application = apply(world)  # child_a, class 4A
    long = apply(world, dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    for actor in (world.contact_teacher_b, world.other_leadership, world.guardian_a):
        client = client_for(actor)
        assert client.get(reverse("leave_review", args=[application.pk])).status_code == 404
        response = client.post(
            reverse("leave_decide", args=[application.pk]), {"outcome": "approved", "reasons": "x"}
        )
        assert response.status_code == 404
    # Kontor reads but does not decide; the contact teacher does not decide long leave.
    office = client_for(world.office)
    assert office.get(reverse("leave_review", args=[application.pk])).status_code == 200
    assert (
        office.post(
            reverse("leave_decide", args=[application.pk]), {"outcome": "approved", "reasons": "x"}
        ).status_code
        == 404
    )
    teacher = client_for(world.contact_teacher_a)
    assert (
        teacher.post(
            reverse("leave_decide", args=[long.pk]), {"outcome": "approved", "reasons": "x"}
        ).status_code
        == 404
    )
    assert not Decision.objects.exists()


def test_kontor_records_consent_given_another_way(world):
    other = second_guardian(world)
    application = apply(world)
    client = client_for(world.office)
    page = client.get(reverse("leave_review", args=[application.pk])).content.decode()
    assert other.full_name in page
    url = reverse("leave_record_consent", args=[application.pk])
    assert client.post(url, {"guardian": other.pk, "note": ""}).status_code == 400
    client.post(url, {"guardian": other.pk, "note": "Signert brev."})
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_reconsider_an_appeal_and_read_the_case(world):
    application = apply(world)
    decide(world, application, Decision.Outcome.DECLINED)
    services.leave_appeal_create(actor=world.guardian_a, application_id=application.pk, text="x")
    client = client_for(world.contact_teacher_a)
    url = reverse("leave_reconsider", args=[application.pk])
    assert client.post(url, {"result": "change", "note": "y"}).status_code == 400
    response = client.post(url, {"result": "uphold", "note": "Står ved lag."}, follow=True)
    page = response.content.decode()
    assert "Send the case to the appeal body" in page
    assert 'data-testid="send-on"' in page  # the task, with the case and how to send it
    appeal = Appeal.objects.get()
    case_url = reverse("leave_case_pdf", args=[appeal.pk])
    case = client.get(case_url)
    assert case["Content-Type"] == "application/pdf"
    assert client_for(world.contact_teacher_b).get(case_url).status_code == 404
    # The guardians' copy; never another family's.
    guardian = client_for(world.guardian_a)
    guardian_page = guardian.get(reverse("leave_application", args=[application.pk]))
    assert case_url in guardian_page.content.decode()
    assert 'data-testid="upheld"' in guardian_page.content.decode()
    assert guardian.get(case_url).content == case.content
    assert client_for(world.guardian_b).get(case_url).status_code == 404
    entry = AuditEntry.objects.filter(action="leave.case.read", actor=world.guardian_a).get()
    assert entry.role == "guardian"

    sent_on = reverse("leave_appeal_sent_on", args=[application.pk])
    assert client_for(world.office).post(sent_on).status_code == 404  # not the decider
    response = client.post(sent_on, follow=True)
    assert "Recorded as sent to the appeal body" in response.content.decode()
    assert 'data-testid="send-on"' not in response.content.decode()
    assert 'data-testid="sent-on"' in response.content.decode()
    response = client.post(sent_on, follow=True)  # a second tap
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="leave.appeal.sent_on").count() == 1


@pytest.mark.parametrize("who", ["leadership", "contact_teacher_a"])
def test_the_queue_holds_its_query_count(world, who):
    """Leiing may decide anything, so their rule asks nothing per application; a contact
    teacher's rule asks whether the pupil is in their class, and that too must not cost a
    query per application."""
    url = reverse("leave_queue")
    apply(world)
    client = client_for(getattr(world, who))
    client.get(url)  # the session's first request saves it once
    few = counted(client, url)
    assert few.text.count('data-testid="queue-row"') == 1
    for n in range(5):
        apply(world, dt.date(2027, 3, 1) + dt.timedelta(days=7 * n))
    apply(world, dt.date(2027, 5, 3), dt.date(2027, 5, 7))  # long leave: leiing decides
    many = counted(client, url)
    assert many.text.count('data-testid="queue-row"') == 7
    to_decide = many.text.split('data-testid="to-decide"')[1].split("</table>")[0]
    assert to_decide.count('data-testid="queue-row"') == (7 if who == "leadership" else 6)
    assert_same_count(few, many)


# --- the school admin ---------------------------------------------------------------------


def _rules_form(html: str) -> dict:
    """The leave rules as the page's form shows them (what a browser would send back)."""
    [found] = [f["data"] for f in post_forms(html) if "rules_text" in f["data"]]
    found.pop("csrfmiddlewaretoken", None)
    return {
        name: value.strip() if isinstance(value, str) else value for name, value in found.items()
    }


def test_the_school_admin_sets_the_leave_rules(world):
    client = client_for(world.school_admin)
    url = reverse("leave_rules", args=[world.school.pk])
    page = client.get(url)
    assert page.status_code == 200
    shown = _rules_form(page.content.decode())
    assert shown["contact_teacher_max_days"] == "3" and shown["religious_holidays_right"] == ["on"]
    data = {
        "contact_teacher_max_days": "2",
        "principal_max_days": "10",
        "max_days_per_year": "8",
        "lead_time_days": "21",
        # religious_holidays_right unticked: leave on religious holidays counts too
        "regulation_name": "Forskrift om permisjon, Skule A",
        "regulation_url": "https://kommune.example/forskrift",
        "rules_text": "Søk tidleg.",
        "appeal_body": "Statsforvaltaren i Rogaland",
    }
    refused = client.post(url, data | {"contact_teacher_max_days": "11"})
    assert refused.status_code == 400
    assert "The contact teacher cannot decide longer leave" in refused.content.decode()
    assert not LeaveRules.objects.filter(school=world.school).exists()

    response = client.post(url, data, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "The leave rules were saved." in response.content.decode()
    rules = LeaveRules.objects.get(school=world.school)
    saved = {name: getattr(rules, name) for name in services.RULES_FIELDS}
    assert saved == {
        "contact_teacher_max_days": 2,
        "principal_max_days": 10,
        "max_days_per_year": 8,
        "lead_time_days": 21,
        "religious_holidays_right": False,
        "regulation_name": "Forskrift om permisjon, Skule A",
        "regulation_url": "https://kommune.example/forskrift",
        "rules_text": "Søk tidleg.",
        "appeal_body": "Statsforvaltaren i Rogaland",
    }
    assert _rules_form(response.content.decode()) == data
    assert AuditEntry.objects.filter(action="leave.rules.updated", actor=world.school_admin)
    # Guardians applying see the school's new rules.
    apply_page = client_for(world.guardian_a).get(reverse("leave_apply", args=[world.child_a.pk]))
    assert "Søk tidleg." in apply_page.content.decode()
    assert "Apply at least 21 days before the leave." in apply_page.content.decode()
    assert client_for(world.leadership).get(url).status_code == 404
