"""My data in a real browser: a guardian sees who at the school has read her child's absence,
asks for a copy of her data from the menu, is told it is ready, and downloads the ZIP with
her children in it and its PDF."""

import io
import json
import re
import zipfile

import pypdf
import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from kontaktbok.absence.selectors import absence_history
from kontaktbok.demo.data import DemoLogins
from kontaktbok.privacy.models import DataExport
from kontaktbok.schools.models import Pupil
from tests.e2e.conftest import Browsing
from tests.e2e.test_journeys import TEACHER_4A, log_in, log_out

pytestmark = pytest.mark.e2e


def test_a_guardian_downloads_her_data(phone: Browsing, demo: DemoLogins) -> None:
    page = phone.page
    children = set(
        Pupil.objects.filter(
            guardianships__guardian__email=demo.guardian,
            guardianships__parental_responsibility=True,
        ).values_list("pk", flat=True)
    )
    # The child's contact teacher reads the child's absence (type and comment).
    child = Pupil.objects.filter(pk__in=children).order_by("first_name").first()
    teacher = get_user_model().objects.get(full_name=TEACHER_4A)
    absence_history(actor=teacher, pupil=child, role="contact_teacher")
    log_in(phone, demo.guardian, demo.password)
    phone.goto(f"/pupils/{child.pk}/")
    phone.follow(page.get_by_test_id("reads-link"))
    read = page.get_by_test_id("read").first
    expect(read).to_contain_text(re.compile("kontaktlærar|contact teacher"))
    phone.follow(page.locator("a[href='/privacy/']").first)
    expect(page.get_by_test_id("exports")).to_have_count(0)
    # The worker builds the copy once the request has committed (in the tests, at once).
    phone.follow(page.get_by_test_id("export-request"))
    export = DataExport.objects.get(person__email=demo.guardian)
    assert export.status == DataExport.Status.READY
    row = page.get_by_test_id("export")
    expect(row).to_have_count(1)
    with page.expect_download() as download_info:
        row.locator(f"a[href='/privacy/exports/{export.pk}/download']").click()
    content = open(download_info.value.path(), "rb").read()  # noqa: SIM115
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data = json.loads(archive.read("data.json"))
        summary = archive.read("summary.pdf")
    assert summary.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(summary)).pages)
    assert child.first_name in text
    assert {child["id"] for child in data["children"]} == children
    # The person is told in the app, with a link back to the page.
    phone.goto("/notifications/")
    expect(page.get_by_test_id("notification").first.get_by_role("link")).to_have_attribute(
        "href", f"/notifications/{export.person.notifications.get(kind='privacy.export_ready').pk}/"
    )
    log_out(phone)
