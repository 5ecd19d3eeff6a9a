"""The staff directory in a real browser: the demo guardian finds the people to call about
each child on a phone, and the school admin keeps an entry up to date."""

import re

import pytest
from playwright.sync_api import expect

from kontaktbok.demo.data import DemoLogins
from kontaktbok.directory.models import DirectoryEntry
from kontaktbok.schools.models import Pupil, School, StaffMember
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import TEACHER_4A, log_in, log_in_with_code, text

pytestmark = pytest.mark.e2e

CALL = text("Ring", "Call")
CALL_IN_TEAMS = text("Ring i Teams", "Call in Teams")
CONTACT_TEACHER_ROLE = r"\((kontaktlærar|kontaktlærer|contact teacher)\)"
HEAD_OF_STAGE = text("hovudstegsleiar", "hovedtrinnleder", "head of stage")
CHANGE = text("Endre", "Change")
SAVE = re.compile(r"^\s*(Lagre|Save)\s*$", re.IGNORECASE)
WORK_PHONE = text("Arbeidstelefon", "Work phone")
OFFICE_HOURS = text("Kontortid", "Office hours")
PRIVATE = text("privat", "private")
TEL = re.compile(r"^tel:\+47\d{8}$")
TEAMS = re.compile(r"^https://teams\.microsoft\.com/l/call/0/0\?users=[^ ]+%40vassenden\.test$")


def test_guardian_opens_the_directory_and_sees_the_call_links(
    phone: Browsing, demo: DemoLogins
) -> None:
    page = phone.page
    children = Pupil.objects.filter(guardianships__guardian__email=demo.guardian)
    child_4a = children.get(groups__name="4A")
    child_9b = children.get(groups__name="9B")
    stranger = Pupil.objects.exclude(guardianships__guardian__email=demo.guardian).first()
    assert stranger is not None

    log_in(phone, demo.guardian, demo.password)
    card = page.get_by_test_id("child").filter(has_text=child_4a.full_name)
    phone.follow(card.locator(f'a[href="/directory/children/{child_4a.pk}/"]'))
    expect(page).to_have_url(phone.url(f"/directory/children/{child_4a.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(child_4a.full_name)

    contacts = page.get_by_test_id("contact")
    teacher = contacts.first
    expect(teacher).to_contain_text(TEACHER_4A)
    expect(teacher).to_contain_text(OFFICE_HOURS)
    call = teacher.get_by_role("link", name=re.compile(rf"{TEACHER_4A} {CONTACT_TEACHER_ROLE}"))
    expect(call).to_have_count(2)
    expect(teacher.get_by_test_id("call")).to_have_attribute("href", TEL)
    expect(teacher.get_by_test_id("call")).to_have_accessible_name(
        re.compile(rf"^({CALL.pattern}) {TEACHER_4A} {CONTACT_TEACHER_ROLE}$", re.IGNORECASE)
    )
    expect(teacher.get_by_test_id("teams")).to_have_attribute("href", TEAMS)
    expect(teacher.get_by_test_id("teams")).to_contain_text(CALL_IN_TEAMS)
    # Every role of the routine a 4th grader's family may call, each with both links.
    expect(contacts).to_have_count(page.get_by_test_id("call").count())
    assert contacts.count() >= 7
    heads = contacts.filter(has_text=HEAD_OF_STAGE)
    expect(heads).to_have_count(1)
    expect(heads).to_contain_text("1.–7. trinn")
    for link in page.get_by_test_id("call").all():
        assert TEL.match(link.get_attribute("href") or "")

    # The other child, in 9B: another contact teacher and the head of grades 8–10.
    phone.goto(f"/directory/children/{child_9b.pk}/")
    expect(page.get_by_test_id("contact").first).not_to_contain_text(TEACHER_4A)
    expect(page.get_by_test_id("contact").filter(has_text=HEAD_OF_STAGE)).to_contain_text(
        "8.–10. trinn"
    )

    # Another family's child: not found, and nothing of it shown.
    phone.goto(f"/directory/children/{stranger.pk}/", status=404)
    expect(page.get_by_test_id("contact")).to_have_count(0)


def test_school_admin_edits_an_entry(phone: Browsing, demo: DemoLogins) -> None:
    page = phone.page
    school = School.objects.get(name="Vassenden skule")
    teacher = StaffMember.objects.get(user__full_name=TEACHER_4A)
    old_phone = teacher.work_phone

    log_in_with_code(
        phone, demo.office, demo.password, demo.totp_secret
    )  # kontor is also the school admin
    # The school's classes and today's checks, on the phone: captions read whole.
    phone.goto(f"/schools/{school.pk}/")
    phone.goto(f"/absence/schools/{school.pk}/checks/")
    phone.goto("/")

    # Kontor adds a pupil to 4A, with a protected address (kontor passed the second factor).
    phone.follow(page.get_by_test_id("people-pupils"))
    phone.follow(page.get_by_test_id("add-pupil"))
    form = page.get_by_test_id("pupil-form")
    form.locator("input[name=first_name]").fill("Nora")
    form.locator("input[name=last_name]").fill("Nyland")
    form.locator("input[name=nin]").fill("12345678901")  # wrong control digits
    phone.follow(form.get_by_role("button"), status=400)
    expect(form.locator("input[name=first_name]")).to_have_value("Nora")
    form.locator("input[name=date_of_birth]").fill("2016-05-04")
    form.locator("input[name=nin]").fill("")
    form.locator("select[name=class_group]").select_option(label="4A")
    form.locator("input[name=protected_address]").check()
    phone.follow(form.get_by_role("button"))
    added = Pupil.objects.get(first_name="Nora", last_name="Nyland")
    assert added.protected_address and added.groups.get().name == "4A"
    # Two guardians: the mother with parental responsibility, the father without.
    for name, email, mobile, responsible in (
        ("Siri Nyland", "siri@nyland.test", "412 34 567", True),
        ("Tor Nyland", "tor@nyland.test", "", False),
    ):
        phone.follow(page.get_by_test_id("add-guardian"))
        form = page.get_by_test_id("guardian-form")
        form.locator("input[name=full_name]").fill(name)
        form.locator("input[name=email]").fill(email)
        form.locator("input[name=phone]").fill(mobile)
        form.locator("input[name=parental_responsibility]").set_checked(responsible)
        phone.follow(form.get_by_role("button"))
    contacts = page.get_by_test_id("guardian-contacts")
    expect(contacts.get_by_test_id("guardian-phone")).to_have_attribute("href", "tel:+4741234567")
    expect(contacts).not_to_contain_text("Tor Nyland")  # no parental responsibility
    assert added.guardianships.filter(parental_responsibility=False).count() == 1
    # The father gets parental responsibility after all: changed on the pupil's page.
    phone.follow(page.get_by_test_id("edit-pupil"))
    father = page.get_by_test_id("guardianship").filter(has_text="Tor Nyland")
    father.locator("input[name=parental_responsibility]").check()
    phone.follow(father.locator("form").first.get_by_role("button"))
    assert added.guardianships.filter(parental_responsibility=False).count() == 0

    # A new teacher: kontor adds her and makes her class team of 4A.
    phone.goto("/")
    phone.follow(page.get_by_test_id("people-staff"))
    phone.follow(page.get_by_test_id("add-staff"))
    form = page.get_by_test_id("staff-form")
    form.locator("input[name=full_name]").fill("Lene Lærar")
    form.locator("input[name=email]").fill("lene@vassenden.test")
    phone.follow(form.get_by_role("button"))
    form = page.get_by_test_id("role-form")
    form.locator("select[name=role]").select_option(value="class_team")
    form.locator("select[name=group]").select_option(label="4A")
    phone.follow(form.get_by_role("button"))
    expect(page.get_by_test_id("role")).to_have_count(1)
    expect(page.get_by_test_id("role")).to_contain_text("4A")
    phone.goto("/")
    phone.follow(page.locator(f'a[href="/directory/schools/{school.pk}/"]'))
    row = page.get_by_test_id("entry").filter(has_text=TEACHER_4A)
    expect(row).to_contain_text(old_phone)
    phone.follow(row.get_by_role("link", name=CHANGE))
    expect(page).to_have_url(phone.url(f"/directory/schools/{school.pk}/staff/{teacher.pk}/"))

    form = page.get_by_role("main").locator("form")
    number = form.get_by_label(WORK_PHONE)
    expect(number).to_have_value(old_phone)
    expect(form.locator("label[for=id_work_phone]")).to_contain_text(PRIVATE)

    # A number that is not a number: a clear error, and what was typed stays.
    number.fill("ring meg privat")
    form.get_by_label(OFFICE_HOURS).fill("Måndag–torsdag 08.00–14.00")
    phone.follow(form.get_by_role("button", name=SAVE), status=400)
    summary = page.get_by_role("main").get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_work_phone")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label(OFFICE_HOURS)).to_have_value("Måndag–torsdag 08.00–14.00")
    teacher.refresh_from_db()
    assert teacher.work_phone == old_phone

    number.fill("+47 57 72 40 04")
    phone.follow(form.get_by_role("button", name=SAVE))
    expect(page).to_have_url(phone.url(f"/directory/schools/{school.pk}/"))
    expect(page.get_by_role("status")).to_contain_text(TEACHER_4A)
    row = page.get_by_test_id("entry").filter(has_text=TEACHER_4A)
    expect(row).to_contain_text("+47 57 72 40 04")
    expect(row).to_contain_text("Måndag–torsdag 08.00–14.00")
    teacher.refresh_from_db()
    assert teacher.work_phone == "+47 57 72 40 04"
    assert DirectoryEntry.objects.get(member=teacher).office_hours == "Måndag–torsdag 08.00–14.00"
