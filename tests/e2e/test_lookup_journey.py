"""Browser journeys for looking for a missing pupil (etterlysing): the contact teacher
registers a pupil absent without a report after the lookup time, the guardian answers on a
phone with one tap, and the school sees the answer; kontor follows the school's open cases on
a phone and closes one.

The clock is moved to 08:55 on the school day, after the lookup time for grades 1–7 (08:50);
the live server runs in this process and shares the moved clock. The pages are matched by
their structure (test ids, form values) and the pupil's name, not by translated texts."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from kontaktbok.absence.lookup.services import lookup_answer
from kontaktbok.absence.models import LookupCase
from kontaktbok.absence.services import Mark, attendance_register
from kontaktbok.accounts.models import User
from kontaktbok.core import clock
from kontaktbok.demo.data import DemoLogins
from kontaktbok.schools.models import Group, Pupil
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import log_in, log_in_with_code, text

pytestmark = pytest.mark.e2e

AFTER_LOOKUP_TIME = dt.datetime(2026, 11, 24, 8, 55, tzinfo=ZoneInfo("Europe/Oslo"))
SAVE = text("Lagre oppmøte", "Save attendance")
SMALL_PHONE = {"width": 360, "height": 740}


def _child_in_4a(demo: DemoLogins) -> Pupil:
    return Pupil.objects.get(guardianships__guardian__email=demo.guardian, groups__name="4A")


def test_teacher_registers_absent_guardian_answers_on_a_phone_and_the_school_sees_it(
    phone: Browsing, desktop: Browsing, demo: DemoLogins
) -> None:
    child = _child_in_4a(demo)
    class_4a = Group.objects.get(name="4A", school=child.school)
    with time_machine.travel(AFTER_LOOKUP_TIME, tick=True):
        # The contact teacher registers the child absent; nobody has reported it.
        teacher = desktop.page
        log_in(desktop, demo.contact_teacher, demo.password)
        desktop.goto(f"/absence/groups/{class_4a.pk}/register/")
        teacher.locator(f"#status-{child.pk}-absent").check()
        desktop.follow(teacher.get_by_role("main").get_by_role("button", name=SAVE))
        case = LookupCase.objects.get(pupil=child, date=clock.today())
        assert case.status == LookupCase.Status.OPEN
        cases = teacher.get_by_test_id("group-lookup-cases")
        expect(cases.get_by_role("link", name=child.full_name)).to_have_attribute(
            "href", f"/absence/lookup/{case.pk}/"
        )
        # The routine: call the guardians at once. Their numbers are on the case.
        desktop.follow(cases.get_by_role("link", name=child.full_name))
        call = teacher.get_by_test_id("lookup-contacts").get_by_test_id("guardian-phone")
        expect(call.first).to_have_attribute("href", re.compile(r"^tel:\+47\d{8}$"))

        # The guardian, on a phone, sees the alert at the top of the page and answers.
        page = phone.page
        log_in(phone, demo.guardian, demo.password)
        banner = page.get_by_test_id("lookup-banner")
        expect(banner).to_have_count(1)
        expect(banner).to_contain_text(child.first_name)
        expect(banner).to_have_attribute("data-color", "danger")
        phone.follow(banner.get_by_role("link"))
        expect(page).to_have_url(phone.url(f"/absence/lookup/{case.pk}/"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(child.first_name)
        expect(page.get_by_test_id("lookup-question")).to_be_visible()
        expect(page.get_by_test_id("school-phone").get_by_role("link")).to_have_attribute(
            "href", "tel:+4757000000"
        )
        expect(page.get_by_test_id("event").first).to_have_attribute("data-kind", "registered")
        answers = page.get_by_test_id("lookup-answers")
        expect(answers.get_by_role("textbox")).to_be_visible()  # "found, write where"
        home_sick = answers.locator("form", has=page.locator('input[value="home_sick"]'))
        phone.follow(home_sick.get_by_role("button"))
        expect(page).to_have_url(phone.url(f"/absence/lookup/{case.pk}/"))
        expect(page.get_by_role("status").first).to_be_visible()
        expect(page.get_by_test_id("lookup-answers")).to_have_count(0)
        expect(page.get_by_test_id("answer")).to_have_attribute("data-answer", "home_sick")
        expect(page.get_by_test_id("lookup-closed")).to_be_visible()
        expect(page.get_by_test_id("lookup-banner")).to_have_count(0)

        # The contact teacher opens the case: the answer is there, the case closed.
        desktop.goto(f"/absence/lookup/{case.pk}/")
        answer = teacher.get_by_test_id("lookup-answer")
        expect(answer.get_by_test_id("answer")).to_have_attribute("data-answer", "home_sick")
        expect(answer).to_contain_text(User.objects.get(email=demo.guardian).full_name)
        expect(teacher.get_by_test_id("lookup-status")).to_have_attribute("data-status", "closed")
        expect(teacher.get_by_test_id("lookup-close")).to_have_count(0)
        kinds = teacher.get_by_test_id("event")
        expect(kinds.last).to_have_attribute("data-kind", "closed")

        # The guardian sees, from the child's page, that the contact teacher read the case.
        phone.goto(f"/pupils/{child.pk}/")
        phone.follow(page.get_by_test_id("reads-link"))
        reads = page.get_by_test_id("read")
        expect(
            reads.filter(has_text=text("etterlysing", "missing-pupil case")).first
        ).to_contain_text(User.objects.get(email=demo.contact_teacher).full_name)


def test_kontor_follows_the_open_cases_on_a_phone_and_closes_one(
    phone: Browsing, demo: DemoLogins
) -> None:
    child = _child_in_4a(demo)
    class_4a = Group.objects.get(name="4A", school=child.school)
    with time_machine.travel(AFTER_LOOKUP_TIME, tick=True):
        attendance_register(
            actor=User.objects.get(email=demo.contact_teacher),
            group_id=class_4a.pk,
            date=clock.today(),
            marks=[Mark(child.pk, "absent")],
        )
        case = LookupCase.objects.get(pupil=child, date=clock.today())

        page = phone.page
        page.set_viewport_size(SMALL_PHONE)
        log_in_with_code(phone, demo.office, demo.password, demo.totp_secret)
        overview = f"/absence/schools/{child.school_id}/lookup/"
        phone.follow(page.get_by_role("main").locator(f'a[href="{overview}"]'))
        rows = page.get_by_test_id("lookup-rows")
        expect(rows).to_have_attribute("data-hx-trigger", "every 15s")
        card = page.locator(f'[data-testid="lookup-case"][data-case="{case.pk}"]')
        expect(card).to_have_attribute("data-status", "open")
        expect(card).to_contain_text(child.full_name)
        expect(card).to_contain_text("4A")
        expect(card.get_by_test_id("minutes")).to_contain_text("min")
        expect(page.get_by_test_id("open-count")).to_have_text("1")

        # The guardian answers meanwhile; the list's next poll shows it (asked for here at
        # once rather than waiting the 15 seconds), and the list keeps polling.
        lookup_answer(
            actor=User.objects.get(email=demo.guardian), case_id=case.pk, answer="on_the_way"
        )
        page.evaluate(
            "url => htmx.ajax('GET', url, {target: '#lookup-rows', swap: 'outerHTML'})",
            f"/absence/schools/{child.school_id}/lookup/rows/",
        )
        expect(card).to_have_attribute("data-status", "answered")
        expect(rows).to_have_attribute("data-hx-trigger", "every 15s")
        phone.check_page()

        phone.follow(card.get_by_role("link", name=child.full_name))
        expect(page.get_by_test_id("lookup-status")).to_have_attribute("data-status", "answered")
        # Cards clip what overflows them (so the page does not scroll): the status must fit.
        status = page.get_by_test_id("lookup-status").bounding_box()
        assert status and status["x"] + status["width"] <= SMALL_PHONE["width"]
        expect(page.get_by_test_id("answer")).to_have_attribute("data-answer", "on_the_way")
        page.locator("#outcome-found").check()
        page.locator("#close-text").fill("Var hos ein ven, kjem no")
        phone.follow(page.get_by_test_id("lookup-close").get_by_role("button"))
        expect(page.get_by_test_id("lookup-status")).to_have_attribute("data-status", "closed")
        expect(page.get_by_test_id("lookup-closed")).to_contain_text("Var hos ein ven")
        case.refresh_from_db()
        assert (case.status, case.outcome) == ("closed", "found")

        # Back on the overview, nobody is looked for any more; the case is among the closed.
        phone.goto(overview)
        expect(page.get_by_test_id("lookup-empty")).to_be_visible()
        expect(page.get_by_test_id("closed-cases").get_by_test_id("lookup-case")).to_have_count(1)
