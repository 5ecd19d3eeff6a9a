"""Secure submission in a real browser: a citizen sends on behalf of a business with a case
number and two attachments, is told clearly what is wrong with bad input (no title, a
program renamed .pdf, a 30 MB file) with nothing typed or uploaded lost, confirms the
summary, gets the receipt page and the SMS in the demo's sink at the mobile number typed on
the form, and later, at the same number, the notice that the archive has registered it.

The citizen logs in with the ID-porten stand-in: a person who is no guardian here gets the
not-registered page and goes on from it to send securely. The archive's answers are given
to the app's own answer service as the consumer would."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from kontaktbok.archive import arkivmelding, keys, standin
from kontaktbok.archive import delivery as archive_worker
from kontaktbok.archive import services as archive_services
from kontaktbok.demo.data import DEMO_UNKNOWN_NIN, DemoLogins
from kontaktbok.notifications.models import SinkMessage
from kontaktbok.schools.identity import nin_digest
from kontaktbok.schools.models import School
from kontaktbok.submissions.models import Submission
from tests.e2e.conftest import Browsing
from tests.e2e.test_national_login_journey import at_provider, standins  # noqa: F401

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n0\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.mark.usefixtures("standins")
def test_a_business_sends_securely_to_the_archive(
    phone: Browsing, demo: DemoLogins, settings, tmp_path
):
    settings.FIKS_IO_API_URL = ""  # no Fiks IO here: the delivery waits, queued
    school = School.objects.select_related("municipality").order_by("pk").first()
    unit = archive_services.unit_create(
        actor=None,
        municipality=school.municipality,
        school=school,
        name="PPT Sunnfjord",
        fiks_account_id=uuid.uuid4(),
        archive_certificate=keys.self_signed("Arkiv")[1].decode(),
        confidential=True,
    )
    page = phone.page
    # A citizen logs in with the ID-porten stand-in: no guardian here, so the clear page,
    # and from it on to the secure form, logged in as a citizen account.
    at_provider(phone, "idporten", "Not registered", "idporten-loa-substantial", status=403)
    expect(page.get_by_role("main")).not_to_contain_text("Vassbotn")
    phone.follow(page.get_by_test_id("citizen-go-on"))
    assert page.url.endswith("/submissions/new/")
    citizen = get_user_model().objects.get(nin_digest=nin_digest(DEMO_UNKNOWN_NIN))
    assert citizen.email is None and not citizen.has_usable_password()
    expect(page.get_by_test_id("identity")).to_contain_text(f"{DEMO_UNKNOWN_NIN[:6]}*****")
    expect(page.get_by_role("main")).not_to_contain_text(DEMO_UNKNOWN_NIN)
    form = page.get_by_test_id("submission-form")
    form.locator("select[name=unit]").select_option(str(unit.pk))
    form.locator("input[name=sender_kind][value=organisation]").check()
    form.locator("input[name=organisation_number]").fill("974 760 673")
    form.locator("input[name=organisation_name]").fill("Ødegård Rør AS")
    form.locator("input[name=name]").fill("Åse Ødegård")  # ID-porten gave no name
    form.locator("input[name=receipt_channel][value=sms]").check()
    # ID-porten gave no mobile number: the citizen types one for the receipt.
    expect(form.locator("input[name=receipt_mobile]")).to_have_value("")
    form.locator("input[name=receipt_mobile]").fill("911 12 222")
    form.locator("input[name=case_number]").fill("2026/587")
    form.locator("textarea[name=comment]").fill("Sjå vedlagde papir om tilrettelegging.")
    files = {"brev.pdf": PDF, "program.pdf": EXE, "stor.pdf": PDF + b"0" * (30 << 20)}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    form.locator("input[name=attachments]").set_input_files(
        [tmp_path / name for name in files], timeout=60_000
    )
    phone.follow(page.get_by_test_id("next"))
    errors = page.locator(".ds-error-summary")
    expect(errors).to_contain_text("program.pdf")
    expect(errors).to_contain_text("stor.pdf")
    expect(errors.locator("a[href='#id_title']")).to_have_count(1)  # the missing title
    # Nothing typed or uploaded is lost.
    expect(form.locator("input[name=organisation_name]")).to_have_value("Ødegård Rør AS")
    expect(form.locator("textarea[name=comment]")).to_have_value(
        "Sjå vedlagde papir om tilrettelegging."
    )
    expect(page.get_by_test_id("kept-file")).to_have_count(1)
    form.locator("input[name=title]").fill("Søknad om tilrettelegging")
    form.locator("input[name=attachments]").set_input_files(
        [{"name": "bilete.png", "mimeType": "image/png", "buffer": PNG}]
    )
    phone.follow(page.get_by_test_id("next"))
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text("974760673")
    expect(summary).to_contain_text("2026/587")
    expect(summary).to_contain_text("brev.pdf")
    expect(summary).to_contain_text("bilete.png")
    expect(page.get_by_test_id("receipt-to")).to_contain_text("+47 91 11 22 22")
    phone.follow(page.get_by_test_id("send"))
    code = page.get_by_test_id("code").inner_text()
    assert re.fullmatch(r"KB-[2-9A-Z]{4}-[2-9A-Z]{2}", code)
    submission = Submission.objects.get(code=code)
    sms = SinkMessage.objects.filter(channel="sms", body__contains=code)
    assert sms.count() == 1 and "tilrettelegging" not in sms.get().body
    assert sms.get().to == "+4791112222"
    citizen.refresh_from_db()
    assert not citizen.phone  # the number went with the receipt, not onto the account
    # The archive registers it (the answers as the consumer hands them over).
    delivery = submission.delivery
    claimed = archive_worker.claim(delivery.pk)
    message_id = uuid.uuid4()
    archive_services.delivery_mark_sent(
        delivery_id=delivery.pk, claimed_at=claimed, message_id=message_id
    )
    archive_services.answer_record(
        message_id=uuid.uuid4(),
        message_type=arkivmelding.KVITTERING,
        sender_account=unit.fiks_account_id,
        in_reply_to=message_id,
        client_message_id=None,
        payload=standin.receipt_xml(year=2026, sequence=77, post=3, created=True, external_key="k"),
    )
    page.reload()
    phone.check_page()
    expect(page.get_by_test_id("archive-state")).to_contain_text("2026/587-3")
    notices = SinkMessage.objects.filter(body__contains="2026/587-3")
    assert [n.to for n in notices] == ["+4791112222"]  # the typed number again
