"""Kontor imports the school's roster in a real browser: a 250-pupil file with three bad
rows, the errors read and fixed, the file imported again, and a third time with nothing
left to change."""

import pytest
from playwright.sync_api import expect

from kontaktbok.demo.data import DemoLogins
from kontaktbok.schools.identity import make_test_nin
from kontaktbok.schools.models import Group, Guardianship, Pupil, School, SchoolYear
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import log_in_with_code

pytestmark = pytest.mark.e2e

HEADER = "type;id;førenamn;etternamn;fødselsdato;fødselsnummer;klasse;e-post;mobil;elevar\n"


def roster(broken: bool) -> bytes:
    """250 pupils in ten new classes, a guardian each; with three bad rows if ``broken``."""
    rows = [f"klasse;;;;;;{grade}R;;;" for grade in range(1, 11)]
    for n in range(250):
        grade = n % 10 + 1
        day, month = n % 28 + 1, n // 28 + 1  # a birthday of their own
        born = f"{day:02d}{month:02d}15"
        number = next(x for i in range(100, 150) if (x := make_test_nin(born, i)))
        if broken and n == 10:
            number = number[:-1] + str((int(number[-1]) + 1) % 10)  # a wrong control digit
        group = "11R" if broken and n == 20 else f"{grade}R"
        rows.append(f"elev;R{n};Elev{n};Roster;{day:02d}.{month:02d}.2015;{number};{group};;;")
        contact = "" if broken and n == 30 else f"forelder{n}@roster.test"
        rows.append(f"føresett;F{n};Forelder{n};Roster;;;;{contact};;R{n}")
    return (HEADER + "\n".join(rows) + "\n").encode()


def test_kontor_imports_a_roster_fixes_three_rows_and_imports_again(
    desktop: Browsing, demo: DemoLogins
) -> None:
    page = desktop.page
    school = School.objects.get(name="Vassenden skule")
    log_in_with_code(desktop, demo.office, demo.password, demo.totp_secret)
    desktop.follow(page.get_by_test_id("people-pupils"))
    desktop.follow(page.get_by_test_id("roster-import"))

    def upload(data: bytes) -> None:
        form = page.get_by_test_id("roster-upload")
        form.locator("input[type=file]").set_input_files(
            {"name": "elevar.csv", "mimeType": "text/csv", "buffer": data}
        )
        desktop.follow(form.locator("button[type=submit]"))

    upload(roster(broken=True))
    rejected = page.get_by_test_id("rejected-row")
    expect(rejected).to_have_count(3)
    for line in ("32", "52", "73"):  # identity number, unknown class, no contact
        expect(rejected.filter(has=page.get_by_role("rowheader", name=line))).to_have_count(1)
    expect(page.get_by_test_id("pupils-new")).to_have_text("248")
    assert not Pupil.objects.filter(last_name="Roster").exists()
    desktop.follow(page.get_by_test_id("apply").get_by_role("button"))
    expect(page.get_by_test_id("applied")).to_be_visible()
    assert Pupil.objects.filter(last_name="Roster").count() == 248

    desktop.goto(f"/schools/{school.pk}/roster/")
    upload(roster(broken=False))
    expect(page.get_by_test_id("rejected-row")).to_have_count(0)
    expect(page.get_by_test_id("pupils-new")).to_have_text("2")
    desktop.follow(page.get_by_test_id("apply").get_by_role("button"))
    assert Pupil.objects.filter(last_name="Roster").count() == 250
    assert Guardianship.objects.filter(pupil__last_name="Roster").count() == 250

    desktop.goto(f"/schools/{school.pk}/roster/")
    upload(roster(broken=False))
    expect(page.get_by_test_id("no-changes")).to_be_visible()
    expect(page.get_by_test_id("apply")).to_have_count(0)

    # The school year turns: the preview lists next year's classes, then one button.
    desktop.goto(f"/schools/{school.pk}/pupils/")
    desktop.follow(page.get_by_test_id("year-turn"))
    steps = page.get_by_test_id("class-step")
    next_year = steps.filter(has=page.get_by_role("rowheader", name="5R", exact=True))
    expect(next_year).to_contain_text("4R")  # 4R becomes 5R
    expect(page.get_by_test_id("leaving")).not_to_have_text("0")  # 10R leaves
    desktop.follow(page.get_by_test_id("turn").get_by_role("button"))
    year = SchoolYear.objects.get(school=school, name="2027–2028")
    moved = Group.objects.get(school_year=year, name="5R").pupils.count()
    assert (
        moved == 25
        and Pupil.objects.filter(last_name="Roster", left_on__isnull=False).count() == 25
    )
