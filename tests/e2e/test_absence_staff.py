"""Browser journey: the contact teacher registers attendance with a guardian's report
already explaining one absence, checks the day, and the office sees the school's status."""

import re

import pytest
from playwright.sync_api import expect

from kontaktbok.absence import services
from kontaktbok.absence.models import AttendanceMark
from kontaktbok.accounts.models import User
from kontaktbok.core import clock
from kontaktbok.demo.data import DemoLogins
from kontaktbok.schools.models import AbsenceType, Group, Pupil
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import log_in, log_in_with_code, text

pytestmark = pytest.mark.e2e

SAVE = text("Lagre oppmøte", "Save attendance")
MARK_CHECKED = text("Merk dagen som sjekka", "Merk dagen som sjekket", "Mark the day as checked")
COMMENT = "Feber i natt"


def test_contact_teacher_registers_and_checks_the_day_and_leiing_sees_it(
    phone: Browsing, desktop: Browsing, demo: DemoLogins
) -> None:
    guardian = User.objects.get(email=demo.guardian)
    child = Pupil.objects.get(guardianships__guardian=guardian, groups__name="4A")
    class_4a = Group.objects.get(name="4A", school=child.school)
    services.absence_report_create(
        actor=guardian,
        pupil_id=child.pk,
        start_date=clock.today(),
        end_date=clock.today(),
        absence_type=AbsenceType.objects.get(school=child.school, code="sick"),
        comment=COMMENT,
    )

    # The contact teacher registers attendance: the report is shown beside the pupil, who
    # starts as absent; the teacher saves the sheet as it is.
    page = phone.page
    log_in(phone, demo.contact_teacher, demo.password)
    phone.goto(f"/absence/groups/{class_4a.pk}/register/")
    row = page.locator(f'[data-testid="pupil-row"][data-pupil="{child.pk}"]')
    expect(row.get_by_test_id("report-note")).to_be_visible()
    expect(row).to_contain_text(COMMENT)
    expect(page.get_by_test_id("pupil-row")).to_have_count(class_4a.pupils.count())
    expect(row.locator(f"#status-{child.pk}-absent")).to_be_checked()
    phone.follow(page.get_by_role("main").get_by_role("button", name=SAVE))
    expect(page.get_by_role("status").first).to_be_visible()
    expect(row.get_by_test_id("explanation")).to_have_attribute("data-color", "success")
    expect(page.get_by_test_id("explanation")).to_have_count(1)

    # The daily check: the reported absence is explained; then the day is marked checked.
    phone.goto(f"/absence/groups/{class_4a.pk}/check/")
    expect(page.get_by_test_id("count-reported")).to_have_text("1")
    expect(page.get_by_test_id("count-absent")).to_have_text("1")
    expect(page.get_by_test_id("count-unexplained")).to_have_text("0")
    check_row = page.get_by_test_id("check-row").filter(has_text=child.first_name)
    expect(check_row.get_by_test_id("explanation")).to_have_attribute("data-color", "success")
    phone.follow(page.get_by_role("button", name=MARK_CHECKED))
    expect(page.get_by_test_id("checked")).to_contain_text("Marit Hjelmeland")
    expect(page.get_by_role("button", name=MARK_CHECKED)).to_have_count(0)

    # Leiing (the principal, with a second factor) sees the whole school: 4A checked, the
    # other classes not yet.
    office = desktop.page
    log_in_with_code(desktop, demo.principal, demo.password, demo.totp_secret)
    desktop.goto(f"/absence/schools/{child.school_id}/checks/")
    classes = office.get_by_test_id("class-check")
    expect(classes).to_have_count(
        Group.objects.filter(school=child.school, kind=Group.Kind.CLASS).count()
    )
    expect(office.locator('[data-testid="class-check"][data-group="4A"]')).to_have_attribute(
        "data-state", "checked"
    )
    expect(office.locator('[data-testid="class-check"][data-state="checked"]')).to_have_count(1)
    expect(office.locator('[data-testid="class-check"][data-group="9B"]')).to_have_attribute(
        "data-state", re.compile("open|late")
    )


def test_a_class_is_registered_by_keyboard_on_a_laptop(desktop: Browsing, demo: DemoLogins) -> None:
    """The sheet is one row per pupil on a laptop. By keyboard: Tab goes from pupil to
    pupil, the arrow keys choose; the minutes and the reason take a Tab stop only where
    they apply; Enter saves."""
    teacher = User.objects.get(email=demo.contact_teacher)
    class_4a = Group.objects.filter(name="4A", staff_roles__member__user=teacher).distinct().get()
    page = desktop.page
    log_in(desktop, demo.contact_teacher, demo.password)
    desktop.goto(f"/absence/groups/{class_4a.pk}/register/")
    rows = page.get_by_test_id("pupil-row")
    expect(rows).to_have_count(class_4a.pupils.count())
    for row in (rows.first, rows.last):  # name and choices side by side, one line
        name, choices = row.locator("th").bounding_box(), row.locator("fieldset").bounding_box()
        assert name and choices and choices["x"] > name["x"] + name["width"] - 1
        assert abs(name["y"] - choices["y"]) < name["height"]
    box = rows.first.bounding_box()
    assert box and box["height"] < 56, box  # 25 pupils in little more than a screen

    pupils = [int(rows.nth(i).get_attribute("data-pupil") or 0) for i in range(3)]
    page.locator(f"#status-{pupils[0]}-present").focus()
    page.keyboard.press("Tab")  # the next pupil: nothing else to fill for a present one
    expect(page.locator(f"#status-{pupils[1]}-present")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#status-{pupils[1]}-absent")).to_be_checked()
    page.keyboard.press("Tab")  # absent: the staff's reason
    expect(page.locator(f"#reason-{pupils[1]}")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(f"#status-{pupils[2]}-present")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#status-{pupils[2]}-late")).to_be_checked()
    page.keyboard.press("Tab")  # late: the minutes
    expect(page.locator(f"#minutes-{pupils[2]}")).to_be_focused()
    page.keyboard.type("10")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    desktop.check_page()
    expect(page.get_by_test_id("registered-status")).to_be_visible()
    marks = {
        mark.pupil_id: (mark.status, mark.late_minutes)
        for mark in AttendanceMark.objects.filter(pupil_id__in=pupils[1:])
    }
    assert marks == {pupils[1]: ("absent", None), pupils[2]: ("late", 10)}
