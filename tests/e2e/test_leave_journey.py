"""Leave (permisjon) in a real browser, in Nynorsk: a guardian applies on a phone, the other
guardian agrees, the contact teacher approves, both guardians read the decision, and the
days show as leave in the class team's daily check."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from kontaktbok.demo.data import DemoLogins
from kontaktbok.leave import services
from kontaktbok.leave.models import LeaveApplication
from kontaktbok.schools.models import Group, Pupil
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import log_in, log_in_with_code, log_out

pytestmark = pytest.mark.e2e

OSLO = ZoneInfo("Europe/Oslo")
FIRST_DAY = dt.date(2027, 1, 11)  # Monday
LAST_DAY = dt.date(2027, 1, 12)


def test_leave_from_application_to_the_daily_check(
    phone: Browsing, desktop: Browsing, demo: DemoLogins
) -> None:
    page = phone.page
    child = Pupil.objects.get(guardianships__guardian__email=demo.guardian, groups__name="4A")
    class_4a = Group.objects.get(name="4A", school=child.school)

    # The guardian applies on her phone, from the child's card on the home page.
    log_in(phone, demo.guardian, demo.password)
    card = page.get_by_test_id("child").filter(has_text=child.full_name)
    phone.follow(card.locator(f"a[href='/leave/children/{child.pk}/apply/']"))
    expect(page).to_have_url(phone.url(f"/leave/children/{child.pk}/apply/"))
    expect(page.locator("html")).to_have_attribute("lang", "nn")
    expect(page.get_by_test_id("leave-rules")).to_contain_text("Sunnfjord kommune")
    form = page.get_by_test_id("apply-form")
    form.locator("input[name=start_date]").fill(FIRST_DAY.isoformat())
    form.locator("input[name=end_date]").fill(LAST_DAY.isoformat())
    phone.follow(page.get_by_test_id("count"))
    expect(page.get_by_test_id("preview")).to_contain_text("2")
    form = page.get_by_test_id("apply-form")
    expect(form.locator("input[name=start_date]")).to_have_value(FIRST_DAY.isoformat())
    form.locator("input[name=category][value=travel]").check()
    form.locator("textarea[name=reason]").fill("Bestemor fyller 90 år i Bergen.")
    form.locator("textarea[name=learning_plan]").fill("Vi tek med lekseplanen og les kvar dag.")
    form.locator("input[name=rules_confirmed]").check()
    phone.follow(page.get_by_test_id("send"))
    application = LeaveApplication.objects.get(pupil=child)
    expect(page).to_have_url(phone.url(f"/leave/applications/{application.pk}/"))
    expect(page.get_by_test_id("school-days")).to_have_text("2")
    assert application.status == LeaveApplication.Status.AWAITING_CONSENT
    assert application.rules_confirmed and "Sunnfjord" not in application.rules_text
    log_out(phone)

    # The other guardian is told, and agrees in the app.
    log_in(phone, demo.other_guardian, demo.password)
    phone.goto("/notifications/")
    notification = page.get_by_test_id("notification").first
    phone.follow(notification.get_by_role("link"))
    expect(page).to_have_url(phone.url(f"/leave/applications/{application.pk}/"))
    expect(page.get_by_test_id("consent-request")).to_be_visible()
    phone.follow(page.get_by_test_id("agree"))
    expect(page.get_by_test_id("consent-request")).to_have_count(0)
    application.refresh_from_db()
    assert application.status == LeaveApplication.Status.SUBMITTED
    log_out(phone)

    # The contact teacher approves, with reasons, from her queue.
    teacher = desktop.page
    log_in(desktop, demo.contact_teacher, demo.password)
    desktop.follow(teacher.get_by_test_id("leave-queue"))
    queue = teacher.get_by_test_id("to-decide")
    expect(queue).to_contain_text(child.last_name)
    desktop.follow(queue.get_by_role("link", name=re.compile(child.first_name)))
    expect(teacher.get_by_test_id("background")).to_be_visible()
    expect(teacher.get_by_test_id("rules")).to_contain_text("§ 2-2")
    decide = teacher.get_by_test_id("decide-form")
    decide.locator("input[name=outcome][value=approved]").check()
    decide.locator("textarea[name=reasons]").fill(
        "Opplæringa i heilskap er forsvarleg; dei føresette tek vare på lekselesinga."
    )
    desktop.follow(teacher.get_by_test_id("make-decision"))
    expect(teacher.get_by_test_id("decision")).to_be_visible()
    application.refresh_from_db()
    assert application.status == LeaveApplication.Status.APPROVED

    # Both guardians see the decision and can read the letter.
    for email in (demo.guardian, demo.other_guardian):
        log_in(phone, email, demo.password)
        card = page.get_by_test_id("child").filter(has_text=child.full_name)
        phone.follow(card.locator(f"a[href='/leave/children/{child.pk}/']"))
        listed = page.get_by_test_id("application")
        expect(listed).to_have_count(1)
        phone.follow(listed.get_by_role("link"))
        decision = page.get_by_test_id("decision")
        expect(decision).to_contain_text("forsvarleg")
        href = decision.get_by_test_id("letter").get_attribute("href") or ""
        letter = page.request.get(phone.url(href))
        assert letter.status == 200 and letter.headers["content-type"] == "application/pdf"
        assert letter.body().startswith(b"%PDF")
        log_out(phone)

    # On the first day of the leave, the daily check shows the child on leave.
    with time_machine.travel(dt.datetime(2027, 1, 11, 8, 15, tzinfo=OSLO), tick=True):
        log_in(desktop, demo.contact_teacher, demo.password)
        desktop.goto(f"/absence/groups/{class_4a.pk}/check/")
        expect(teacher.get_by_test_id("count-leave")).to_have_text("1")
        expect(teacher.get_by_test_id("check-row").filter(has_text=child.first_name)).to_have_count(
            1
        )


def test_kontor_sees_the_demo_application_and_sets_the_leave_rules(
    desktop: Browsing, demo: DemoLogins
) -> None:
    page = desktop.page
    application = LeaveApplication.objects.get()  # the demo's: 9B, both parents agreed
    assert application.status == LeaveApplication.Status.SUBMITTED
    log_in_with_code(desktop, demo.office, demo.password, demo.totp_secret)
    desktop.follow(page.get_by_role("main").locator("a[href='/leave/staff/']").first)
    row = page.get_by_test_id("queue-row").filter(has_text=application.pupil.first_name)
    desktop.follow(row.get_by_role("link"))
    expect(page.get_by_test_id("facts")).to_contain_text("Trondheim")
    expect(page.get_by_test_id("decide-form")).to_have_count(0)  # kontor does not decide

    desktop.goto("/")
    desktop.follow(page.locator(f"a[href='/leave/schools/{application.school_id}/rules/']"))
    expect(page).to_have_url(desktop.url(f"/leave/schools/{application.school_id}/rules/"))
    form = page.get_by_role("main").locator("form")
    expect(form.locator("input[name=contact_teacher_max_days]")).to_have_value("3")
    form.locator("input[name=max_days_per_year]").fill("8")
    desktop.follow(form.get_by_role("button"))
    expect(form.locator("input[name=max_days_per_year]")).to_have_value("8")
    # Both limits refused together: the error is shown on the page, nothing is saved.
    form = page.get_by_role("main").locator("form")
    form.locator("input[name=contact_teacher_max_days]").fill("12")
    desktop.follow(form.get_by_role("button"), status=400)
    expect(page.get_by_role("alert")).to_be_visible()


def test_an_appeal_is_reconsidered_and_sent_on(
    phone: Browsing, desktop: Browsing, demo: DemoLogins
) -> None:
    users = get_user_model().objects
    guardian, other = users.get(email=demo.guardian), users.get(email=demo.other_guardian)
    teacher = users.get(email=demo.contact_teacher)
    child = Pupil.objects.get(guardianships__guardian=guardian, groups__name="4A")
    application = services.leave_application_create(
        actor=guardian,
        pupil_id=child.pk,
        category="travel",
        reason="Familietur.",
        learning_plan="Lekser.",
        start_date=FIRST_DAY,
        end_date=LAST_DAY,
        rules_confirmed=True,
    )
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    services.leave_decide(
        actor=teacher,
        application_id=application.pk,
        outcome="declined",
        reasons="Heildagsprøve i matematikk.",
    )

    # The guardian appeals on her phone.
    page = phone.page
    log_in(phone, demo.guardian, demo.password)
    phone.goto(f"/leave/applications/{application.pk}/")
    form = page.get_by_test_id("appeal-form")
    form.locator("textarea[name=text]").fill("Prøva kan takast ein annan dag.")
    phone.follow(form.get_by_role("button"))
    expect(page.get_by_test_id("appeal")).to_contain_text("Prøva kan takast ein annan dag.")
    expect(page.get_by_test_id("appeal-form")).to_have_count(0)

    # The contact teacher upholds the decision, and is given the task of sending the case
    # to the appeal body: the case as one PDF, and how to send it.
    staff = desktop.page
    log_in(desktop, demo.contact_teacher, demo.password)
    desktop.goto(f"/leave/staff/applications/{application.pk}/")
    form = staff.get_by_test_id("reconsider-form")
    form.locator("input[name=result][value=uphold]").check()
    form.locator("textarea[name=note]").fill("Prøva kan ikkje flyttast.")
    desktop.follow(form.get_by_role("button"))
    task = staff.get_by_test_id("send-on")
    expect(task).to_contain_text("Statsforvaltaren i Vestland")
    case = task.get_by_test_id("send-on-case")
    pdf = staff.request.get(desktop.url(case.get_attribute("href") or ""))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # The guardian has a copy of the case, and sees that it is not sent yet.
    phone.goto(f"/leave/applications/{application.pk}/")
    expect(page.get_by_test_id("upheld")).to_contain_text("Statsforvaltaren i Vestland")
    copy = page.get_by_test_id("case-pdf")
    mine = page.request.get(phone.url(copy.get_attribute("href") or ""))
    assert mine.status == 200 and mine.body() == pdf.body()

    # Sent: the contact teacher records it, and the guardian sees when.
    desktop.follow(task.get_by_test_id("record-sent-on"))
    expect(staff.get_by_test_id("send-on")).to_have_count(0)
    phone.goto(f"/leave/applications/{application.pk}/")
    expect(page.get_by_test_id("sent-on")).to_contain_text("Statsforvaltaren i Vestland")
    application.refresh_from_db()
    assert application.status == LeaveApplication.Status.SENT_TO_STATSFORVALTER
    assert application.appeal.sent_on_at is not None

    # The whole case on the contact teacher's phone: nothing wider than the screen.
    log_out(phone)
    log_in(phone, demo.contact_teacher, demo.password)
    phone.goto(f"/leave/staff/applications/{application.pk}/")
    expect(page.get_by_test_id("background")).to_be_visible()
