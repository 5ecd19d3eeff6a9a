"""Meld fråvær in a real browser on a phone: the demo guardian reports a child sick today."""

import re

import pytest
from playwright.sync_api import expect

from kontaktbok.absence.models import AbsenceReport
from kontaktbok.demo.data import DemoLogins
from kontaktbok.schools.models import Pupil
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import log_in, text

pytestmark = pytest.mark.e2e

REPORT_ABSENCE = text("Meld fråvær", "Meld fravær", "Report absence")
SICK = re.compile(r"^\s*(Sjuk|Syk|Sick)\s*$", re.IGNORECASE)
WHOLE_DAY = text("Heile dagen", "Hele dagen", "The whole day")
SOME_HOURS = text("Nokre timar", "Noen timer", "Some hours")
COMMENT = text("Kommentar", "Comment")
SEND = re.compile(r"^\s*(Send|Sende)\s*$", re.IGNORECASE)
FIRST_DAY = text("Første dag", "Første dagen", "First day")
DEADLINE = "08:30"
WITHDRAW = re.compile(r"^(Trekk tilbake|Withdraw)\b")
YES_WITHDRAW = text(
    "Ja, trekk tilbake meldinga", "Ja, trekk tilbake meldingen", "Yes, withdraw the report"
)
WITHDRAWN = text("Trekt tilbake", "Trukket tilbake", "Withdrawn")
REPORTED = text("Meldt", "Reported")


def test_guardian_reports_a_child_sick_today_on_a_phone(phone: Browsing, demo: DemoLogins) -> None:
    page = phone.page
    child = Pupil.objects.get(guardianships__guardian__email=demo.guardian, groups__name="4A")
    log_in(phone, demo.guardian, demo.password)
    expect(page).to_have_url(phone.url("/"))

    phone.goto(f"/absence/children/{child.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(child.full_name)
    expect(page.get_by_test_id("report")).to_have_count(0)

    phone.follow(page.get_by_role("main").get_by_role("link", name=REPORT_ABSENCE))
    expect(page).to_have_url(phone.url(f"/absence/children/{child.pk}/report/"))
    expect(page.get_by_test_id("rules")).to_contain_text(DEADLINE)
    # The first and last day are today already, and the whole day is chosen.
    expect(page.get_by_label(FIRST_DAY)).to_have_value("2026-11-24")
    expect(page.get_by_role("radio", name=WHOLE_DAY)).to_be_checked()
    # The times show only for some hours (and take no tab stops before that).
    times = page.get_by_test_id("times")
    expect(times).to_be_hidden()
    page.get_by_role("radio", name=SOME_HOURS).check()
    expect(times).to_be_visible()
    page.get_by_role("radio", name=WHOLE_DAY).check()
    expect(times).to_be_hidden()
    comment = page.get_by_role("textbox", name=COMMENT)
    form_width = page.get_by_test_id("report-form").bounding_box()["width"]
    assert comment.bounding_box()["width"] >= form_width - 2
    page.get_by_role("radio", name=SICK).check()
    phone.follow(page.get_by_test_id("send"))

    expect(page).to_have_url(phone.url(f"/absence/children/{child.pk}/"))
    expect(page.get_by_role("status").first).to_contain_text(child.first_name)
    reports = page.get_by_test_id("report")
    expect(reports).to_have_count(1)
    expect(reports).to_contain_text(text("Sjuk", "Sick"))
    expect(reports.get_by_test_id("late")).to_have_count(0)

    report = AbsenceReport.objects.get(pupil=child)
    assert report.reported_by is not None and report.reported_by.email == demo.guardian
    assert report.absence_type.code == "sick" and report.whole_day and not report.late

    # Withdrawing asks first; then it can be undone for a few minutes.
    phone.follow(reports.get_by_role("link", name=WITHDRAW))
    expect(page.get_by_test_id("withdraw-report")).to_contain_text(text("Sjuk", "Sick"))
    phone.follow(page.get_by_role("button", name=YES_WITHDRAW))
    expect(page).to_have_url(phone.url(f"/absence/children/{child.pk}/"))
    expect(reports.get_by_test_id("status")).to_have_text(WITHDRAWN)
    phone.follow(reports.get_by_test_id("undo"))
    expect(reports.get_by_test_id("status")).to_have_text(REPORTED)
    report.refresh_from_db()
    assert report.status == AbsenceReport.Status.ACTIVE
