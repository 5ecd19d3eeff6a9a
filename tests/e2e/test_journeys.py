"""Journeys through the demo school in a real browser, one per role.

The interface is in Nynorsk unless the user chose another language (the browser's own
language, en-US for Playwright's Chromium, does not count). Texts are matched in Nynorsk,
Bokmål and English, so the journeys do not depend on which strings are translated yet.
"""

import base64
import datetime as dt
import hmac
import re
import struct
import time

import pytest
import time_machine
from playwright.sync_api import Page, expect

from kontaktbok.demo.data import DemoLogins
from kontaktbok.schools.models import Group, Pupil, School
from tests.e2e.conftest import Browsing

pytestmark = pytest.mark.e2e


def text(*variants: str) -> re.Pattern[str]:
    """A case-insensitive pattern that matches any of the translations of a text."""
    return re.compile("|".join(re.escape(variant) for variant in variants), re.IGNORECASE)


EMAIL = text("E-post", "Email", "E-mail")
PASSWORD = text("Passord", "Password")
LOG_IN = re.compile(r"^\s*(Logg inn|Log in|Sign in)\s*$", re.IGNORECASE)
LOG_OUT = text("Logg ut", "Log out")
SIGNED_OUT = text("Du er logga ut", "Du er logget ut", "You have signed out")
CODE = re.compile(r"^\s*(Kode|Code)\b", re.IGNORECASE)
LANGUAGE = text("Språk", "Language")
CHANGE_LANGUAGE = text("Byt språk", "Bytt språk", "Change language")
OPEN_GROUP = text("Opne 4A", "Åpne 4A", "Open 4A")
OVERVIEW = text("Oversikt over Vassenden skule", "Overview of Vassenden skule")
SETTINGS = text(
    "Innstillingar for Vassenden skule",
    "Innstillinger for Vassenden skule",
    "Settings for Vassenden skule",
)
AUDIT_LOG = text("Tilgangslogg", "Audit log")
SAVE_SETTINGS = text("Lagre innstillingane", "Lagre innstillingene", "Save settings")
SAVED = text("Innstillingane er lagra", "Innstillingene er lagret", "The settings were saved")
REPORT_DEADLINE = text(
    "frist for å melde fråvær", "frist for å melde fravær", "absence report deadline"
)
CONTACT_TEACHER = text("Kontaktlærar", "Kontaktlærer", "Contact teacher")
TEACHER_4A = "Marit Hjelmeland"


def totp_now(secret: str, *, step: int = 30, digits: int = 6) -> str:
    """The TOTP code for now (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits).

    ``time.time()`` is time_machine's clock (autouse fixture in tests/conftest.py), which the
    live server thread shares, so the code is the one the server expects.
    """
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int(time.time()) // step
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def test_totp_matches_rfc_6238() -> None:
    """The helper itself, against the SHA-1 test vectors of RFC 6238, appendix B."""
    secret = base64.b32encode(b"12345678901234567890").decode()
    vectors = {59: "94287082", 1111111109: "07081804", 2000000000: "69279037"}
    for moment, code in vectors.items():
        with time_machine.travel(moment, tick=False):
            assert totp_now(secret, digits=8) == code


def log_in(browsing: Browsing, email: str, password: str, *, status: int = 200) -> None:
    """Fill in and send the real login form (the login page is checked first)."""
    page = browsing.page
    if "/accounts/login/" not in page.url:
        browsing.goto("/accounts/login/")
    main = page.get_by_role("main")
    main.get_by_label(EMAIL).fill(email)
    main.get_by_label(PASSWORD).fill(password)
    browsing.follow(main.get_by_role("button", name=LOG_IN), status=status)


def log_in_with_code(browsing: Browsing, email: str, password: str, secret: str) -> None:
    """Log in with the password and the second factor (kontor, leiing, school admin)."""
    log_in(browsing, email, password)
    page = browsing.page
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    # A code computed in the last instants of its 30-second step could expire on its way to
    # the server; in that (rare) case wait the fraction of a second for the next step.
    left = 30 - time.time() % 30
    if left < 2:
        time.sleep(left + 0.05)
    main = page.get_by_role("main")
    main.get_by_label(CODE).fill(totp_now(secret))
    browsing.follow(main.get_by_role("button", name=LOG_IN))


def log_out(browsing: Browsing) -> None:
    page = browsing.page
    browsing.follow(page.get_by_role("navigation").get_by_role("button", name=LOG_OUT))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("status")).to_contain_text(SIGNED_OUT)
    expect(page.get_by_role("button", name=LOG_OUT)).to_have_count(0)


def login_error(page: Page) -> str:
    summary = page.get_by_role("main").get_by_role("alert")
    expect(summary).to_be_visible()
    return summary.get_by_role("listitem").inner_text().strip()


def test_guardian_sees_her_children_and_nobody_elses(phone: Browsing, demo: DemoLogins) -> None:
    page = phone.page
    children = Pupil.objects.filter(guardianships__guardian__email=demo.guardian)
    child_4a = children.get(groups__name="4A")
    child_9b = children.get(groups__name="9B")
    stranger = (
        Pupil.objects.exclude(guardianships__guardian__email=demo.guardian).order_by("pk").first()
    )
    assert stranger is not None

    log_in(phone, demo.guardian, demo.password)
    expect(page).to_have_url(phone.url("/"))
    cards = page.get_by_test_id("child")
    expect(cards).to_have_count(2)
    card_4a = cards.filter(has_text=child_4a.full_name)
    expect(card_4a).to_have_count(1)
    expect(card_4a).to_contain_text("4A")
    expect(card_4a).to_contain_text(CONTACT_TEACHER)
    expect(card_4a).to_contain_text(TEACHER_4A)
    card_9b = cards.filter(has_text=child_9b.full_name)
    expect(card_9b).to_have_count(1)
    expect(card_9b).to_contain_text("9B")
    expect(card_9b).not_to_contain_text(TEACHER_4A)

    phone.follow(card_4a.get_by_role("link", name=child_4a.full_name))
    expect(page).to_have_url(phone.url(f"/pupils/{child_4a.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(child_4a.full_name)
    expect(page.get_by_role("main")).to_contain_text(TEACHER_4A)

    # Another family's child, typed into the address bar: not found, and nothing shown.
    phone.goto(f"/pupils/{stranger.pk}/", status=404)
    expect(page.locator("body")).not_to_contain_text(stranger.full_name)

    phone.goto("/")
    log_out(phone)
    phone.goto("/", status=200)  # the login page again, after the redirect
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_contact_teacher_sees_the_class_but_not_the_school(
    phone: Browsing, demo: DemoLogins
) -> None:
    page = phone.page
    group = Group.objects.get(name="4A")
    pupils = list(group.pupils.order_by("last_name", "first_name"))
    assert len(pupils) == 10
    school = School.objects.get()

    log_in(phone, demo.contact_teacher, demo.password)
    groups = page.get_by_test_id("group")
    expect(groups).to_have_count(1)
    expect(groups.locator("summary")).to_contain_text("4A")
    expect(groups.get_by_role("listitem")).to_have_count(len(pupils))
    for pupil in pupils:
        expect(groups).to_contain_text(f"{pupil.last_name}, {pupil.first_name}")

    phone.follow(groups.get_by_role("link", name=OPEN_GROUP))
    expect(page).to_have_url(phone.url(f"/groups/{group.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("4A")
    expect(page.get_by_role("main")).to_contain_text(TEACHER_4A)
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(len(pupils))
    expect(rows.first).to_contain_text(f"{pupils[0].last_name}, {pupils[0].first_name}")

    # The whole school is for the office and the leadership only.
    phone.goto(f"/schools/{school.pk}/", status=404)
    phone.goto(f"/schools/{school.pk}/settings/", status=404)
    phone.goto("/audit/", status=404)


def test_office_sees_the_school_and_changes_its_settings(
    desktop: Browsing, demo: DemoLogins
) -> None:
    page = desktop.page
    school = School.objects.get()
    assert school.report_deadline == dt.time(8, 30)
    assert school.escalation_minutes == 40

    log_in_with_code(desktop, demo.office, demo.password, demo.totp_secret)
    desktop.follow(page.get_by_role("link", name=OVERVIEW))
    expect(page).to_have_url(desktop.url(f"/schools/{school.pk}/"))
    rows = page.get_by_test_id("overview-group")
    expect(rows).to_have_count(21)
    classes = [f"{grade}{letter}" for grade in range(1, 11) for letter in "AB"]
    names = [name.strip() for name in rows.locator("td:first-child").all_inner_texts()]
    assert sorted(names) == sorted([*classes, "SFO"])
    row_4a = rows.filter(has=page.get_by_role("link", name="4A", exact=True))
    expect(row_4a).to_contain_text(TEACHER_4A)

    desktop.goto("/")
    desktop.follow(page.get_by_role("link", name=SETTINGS))
    settings_url = desktop.url(f"/schools/{school.pk}/settings/")
    expect(page).to_have_url(settings_url)
    form = page.get_by_role("main").locator("form")
    deadline = form.locator("input[name=report_deadline]")
    # The input is labelled by its visible label (and that label is the field's).
    expect(form.get_by_label(REPORT_DEADLINE)).to_have_attribute("name", "report_deadline")
    expect(deadline).to_have_value("08:30")
    deadline.fill("08:15")
    desktop.follow(form.get_by_role("button", name=SAVE_SETTINGS))
    expect(page).to_have_url(settings_url)
    expect(page.get_by_role("status")).to_contain_text(SAVED)
    school.refresh_from_db()
    assert school.report_deadline == dt.time(8, 15)

    desktop.goto(f"/schools/{school.pk}/settings/")
    expect(deadline).to_have_value("08:15")

    # An escalation window outside 30–45 minutes: an error, and nothing at all is saved.
    deadline.fill("08:05")
    escalation = form.locator("input[name=escalation_minutes]")
    escalation.fill("90")
    desktop.follow(form.get_by_role("button", name=SAVE_SETTINGS), status=400)
    summary = page.get_by_role("main").get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_escalation_minutes")
    expect(escalation).to_have_attribute("aria-invalid", "true")
    expect(escalation).to_have_accessible_description(re.compile("45"))
    expect(page.get_by_role("status")).to_have_count(0)
    school.refresh_from_db()
    assert school.escalation_minutes == 40
    assert school.report_deadline == dt.time(8, 15)


def test_principal_logs_in_with_a_second_factor_and_reads_the_audit_log(
    phone: Browsing, demo: DemoLogins
) -> None:
    page = phone.page
    log_in(phone, demo.principal, demo.password)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    expect(page.get_by_test_id("audit-table")).to_have_count(0)

    # A code computed in the last instants of its 30-second step could expire on its way to
    # the server; in that (rare) case wait the fraction of a second for the next step.
    left = 30 - time.time() % 30
    if left < 2:
        time.sleep(left + 0.05)
    main = page.get_by_role("main")
    main.get_by_label(CODE).fill(totp_now(demo.totp_secret))
    phone.follow(main.get_by_role("button", name=LOG_IN))
    expect(page).to_have_url(phone.url("/"))
    expect(page.get_by_role("link", name=OVERVIEW)).to_be_visible()
    expect(page.get_by_role("link", name=AUDIT_LOG)).to_be_visible()

    phone.follow(page.get_by_role("link", name=AUDIT_LOG))
    expect(page).to_have_url(phone.url("/audit/"))
    table = page.get_by_test_id("audit-table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_be_visible()
    assert table.locator("tbody tr").count() >= 1


def test_office_pages_fit_a_phone(phone: Browsing, demo: DemoLogins) -> None:
    """Every page of the office and the school admin, on a phone: axe, no sideways scroll."""
    school = School.objects.get(name="Vassenden skule")
    group = Group.objects.get(school=school, name="4A")
    pupil = group.pupils.first()
    assert pupil is not None
    log_in_with_code(phone, demo.office, demo.password, demo.totp_secret)
    for path in (
        f"/schools/{school.pk}/",
        f"/schools/{school.pk}/settings/",
        f"/schools/{school.pk}/absence-types/new/",
        f"/groups/{group.pk}/",
        f"/pupils/{pupil.pk}/",
        "/accounts/2fa/",
    ):
        phone.goto(path)


def test_wrong_password_gives_the_same_error_for_known_and_unknown_addresses(
    phone: Browsing, demo: DemoLogins
) -> None:
    page = phone.page
    log_in(phone, demo.guardian, "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    known = login_error(page)
    expect(page.get_by_role("main").get_by_label(EMAIL)).to_have_value(demo.guardian)
    expect(page.get_by_role("main").get_by_label(PASSWORD)).to_have_value("")

    log_in(phone, "nobody@vassenden.test", "not-the-password")
    unknown = login_error(page)
    assert known
    assert known == unknown
    expect(page.get_by_role("button", name=LOG_OUT)).to_have_count(0)


def test_language_can_be_changed_on_the_login_page(phone: Browsing, demo: DemoLogins) -> None:
    page = phone.page
    html = page.locator("html")
    phone.goto("/accounts/login/")
    # Nynorsk by default, although the browser asks for English.
    expect(html).to_have_attribute("lang", "nn")
    footer = page.get_by_role("contentinfo")
    expect(footer.get_by_label(LANGUAGE)).to_have_value("nn")

    footer.get_by_label(LANGUAGE).select_option(label="English")
    phone.follow(footer.get_by_role("button", name=CHANGE_LANGUAGE))
    expect(page).to_have_url(phone.url("/accounts/login/"))
    expect(html).to_have_attribute("lang", "en")
    expect(footer.get_by_label("Language")).to_have_value("en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to kontaktbok")

    # The choice is kept on the next page.
    phone.goto("/accounts/password/reset/")
    expect(html).to_have_attribute("lang", "en")


def test_page_checks_catch_violations_and_errors(phone: Browsing) -> None:
    """The checks themselves: a page that breaks WCAG, logs an error or overflows fails."""
    page = phone.page
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main>'
        '<h1>Broken</h1><input type="text"><img src="data:,"></main></body></html>'
    )
    with pytest.raises(AssertionError, match=r"label|image-alt"):
        phone.check_page()

    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Wide</title></head><body><main>'
        '<h1>Wide</h1><div style="width:2000px">wide</div></main></body></html>'
    )
    with pytest.raises(AssertionError, match="sideways"):
        phone.check_page()

    page.evaluate("console.error('boom')")
    with pytest.raises(AssertionError, match="boom"):
        phone.check_page()
