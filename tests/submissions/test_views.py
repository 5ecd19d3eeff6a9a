import io
import re
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from kontaktbok.archive import services as archive_services
from kontaktbok.archive.models import ArchiveDelivery, ArchiveDocument
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications.models import Notification
from kontaktbok.submissions.forms import parse_case_number
from kontaktbok.submissions.models import Draft, DraftFile, Submission
from tests import factories
from tests.national.conftest import login as national_login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n0\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _queued(settings):
    settings.FIKS_IO_API_URL = ""  # deliveries stay queued here


@pytest.fixture
def unit(db):
    school = factories.school("Vassenden skule")
    from kontaktbok.archive import keys

    return archive_services.unit_create(
        actor=None,
        municipality=school.municipality,
        school=school,
        name="PPT Sunnfjord",
        fiks_account_id=uuid.uuid4(),
        archive_certificate=keys.self_signed("Arkiv")[1].decode(),
        confidential=True,
    )


@pytest.fixture
def citizen(client):
    person = factories.user("Åse Ødegård", phone="+4798765432")
    client.force_login(person)
    return person


def form_data(unit, **extra):
    data = {
        "unit": unit.pk,
        "sender_kind": "organisation",
        "organisation_number": "974 760 673",
        "organisation_name": "Ødegård Rør AS",
        "name": "Åse Ødegård",
        "receipt_channel": "sms",
        "receipt_mobile": "987 65 432",
        "title": "Søknad om tilrettelegging",
        "case_number": " 2026 / 587 ",
        "comment": "Sjå vedlagde papir.",
    }
    data.update(extra)
    return data


def test_parse_case_number():
    assert parse_case_number("2026/587") == (2026, 587)
    assert parse_case_number(" 2026 / 0587 ") == (2026, 587)
    assert parse_case_number("") is None
    for bad in ("587", "26/587", "2026-587", "2026/0", "abcd/12"):
        with pytest.raises(Exception):  # noqa: B017
            parse_case_number(bad)


def test_a_business_sends_with_a_case_number_and_two_attachments(client, unit, citizen):
    response = client.post(
        reverse("submission_new"),
        {
            **form_data(unit),
            "attachments": [
                SimpleUploadedFile("brev.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("bilete.png", PNG, "image/png"),
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    draft = Draft.objects.get()
    assert response["Location"] == reverse("submission_confirm", args=[draft.uuid])
    page = client.get(response["Location"]).content.decode()
    assert "Ødegård Rør AS" in page and "974760673" in page and "2026/587" in page
    assert "brev.pdf" in page and "bilete.png" in page
    response = client.post(reverse("submission_confirm", args=[draft.uuid]))
    submission = Submission.objects.get()
    assert response["Location"] == reverse("submission_receipt", args=[submission.uuid])
    assert submission.code.startswith("KB-") and len(submission.code) == 10
    receipt = client.get(response["Location"]).content.decode()
    assert submission.code in receipt and "Sjå vedlagde" not in receipt
    delivery = submission.delivery
    assert delivery.state == ArchiveDelivery.State.QUEUED
    assert delivery.case_number == "2026/587" and delivery.sender_kind == "organisation"
    assert archive_services.sender_identifier(delivery) == "974760673"
    assert [d.content_type for d in ArchiveDocument.objects.filter(delivery=delivery)] == [
        "application/pdf",
        "application/pdf",
        "image/png",
    ]
    from kontaktbok.messaging import files as sealed

    main = ArchiveDocument.objects.filter(delivery=delivery).first()
    comment_pdf = sealed.decrypt(bytes(main.data), name=str(main.uuid))
    xmp = PdfReader(io.BytesIO(comment_pdf)).xmp_metadata
    assert 'pdfaid:part="2"' in xmp.rdf_root.toxml()  # PDF/A-2b
    [notice] = Notification.objects.filter(recipient=citizen, kind="submissions.receipt_sms")
    assert notice.payload == {"unit": "PPT Sunnfjord", "code": submission.code}
    assert AuditEntry.objects.filter(action="submissions.submission.sent").exists()
    assert not Draft.objects.exists() and not DraftFile.objects.exists()


def test_bad_input_gets_clear_errors_and_nothing_is_lost(client, unit, citizen, settings):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # texts asserted in English
    settings.SUBMISSION_MAX_FILE_MB = 1
    response = client.post(
        reverse("submission_new"),
        {
            **form_data(unit, title="", organisation_number="974760674"),
            "attachments": [
                SimpleUploadedFile("brev.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("program.pdf", EXE, "application/pdf"),
                SimpleUploadedFile("stor.pdf", PDF + b"0" * (2 * 1024 * 1024), "application/pdf"),
            ],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "program.pdf" in page and "stor.pdf" in page  # named in the errors
    assert "not a valid organisation number" in page
    assert 'value="Ødegård Rør AS"' in page and "Sjå vedlagde papir." in page
    draft = Draft.objects.get()
    assert [f.filename for f in draft.files.all()] == ["brev.pdf"]  # the good file is kept
    assert "brev.pdf" in page
    # Corrected, without uploading again: the kept file goes with it.
    response = client.post(reverse("submission_new"), {**form_data(unit), "draft": str(draft.uuid)})
    assert response.status_code == 302
    client.post(reverse("submission_confirm", args=[draft.uuid]))
    submission = Submission.objects.get()
    assert ArchiveDocument.objects.filter(delivery=submission.delivery).count() == 2


def test_as_a_private_person_no_org_number_is_needed(client, unit, citizen):
    response = client.post(
        reverse("submission_new"),
        form_data(unit, sender_kind="person", organisation_number="", organisation_name="",
                  case_number="", receipt_channel="email", receipt_email="ase@example.test"),
    )  # fmt: skip
    assert response.status_code == 302
    client.post(response["Location"])
    submission = Submission.objects.get()
    assert not submission.as_business and submission.delivery.sender_kind == "person"
    assert Notification.objects.filter(kind="submissions.receipt_email").exists()


def test_someone_else_cannot_see_the_draft_or_the_receipt(client, unit, citizen):
    response = client.post(reverse("submission_new"), form_data(unit))
    draft = Draft.objects.get()
    client.post(response["Location"])
    submission = Submission.objects.get()
    client.force_login(factories.user("Nabo"))
    assert client.get(reverse("submission_receipt", args=[submission.uuid])).status_code == 404
    other = factories.user("Anna")
    from kontaktbok.submissions import services

    draft2 = services.draft_save(actor=other, draft=None, fields={}, comment="hemmeleg", files=[])
    assert client.get(reverse("submission_confirm", args=[draft2.uuid])).status_code == 404
    page = client.get(reverse("submission_new") + f"?draft={draft2.uuid}").content.decode()
    assert "hemmeleg" not in page
    assert draft.pk  # used


def test_the_form_marks_required_fields(client, unit, citizen):
    page = client.get(reverse("submission_new")).content.decode()
    assert page.count('class="kb-required"') >= 5
    assert 'aria-hidden="true">*</span>' in page  # the star is for the eye; the text says it
    assert 'aria-describedby="required-note"' in page


def test_the_school_admin_sets_up_a_unit(client, db):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # texts asserted in English
    from kontaktbok.archive import keys
    from kontaktbok.archive.models import ArchiveUnit
    from kontaktbok.schools.models import StaffRole

    school = factories.school("Vassenden skule")
    from allauth.mfa.totp.internal.auth import TOTP

    admin = factories.staff(school, StaffRole.Role.SCHOOL_ADMIN, name="Admin")
    TOTP.activate(admin, factories.TOTP_SECRET)  # staff pages need the second factor
    client.force_login(admin)
    url = reverse("archive_units", args=[school.pk])
    data = {
        "name": "Helsestasjonen",
        "fiks_account_id": str(uuid.uuid4()),
        "archive_certificate": "not a certificate",
        "administrative_unit": "Helse",
        "confidential": "on",
        "access_code": "13",
        "screening_authority": "Offl. § 13",
        "office_documents": "on",
        "responsible_staff": [admin.pk],
    }
    response = client.post(url, data)
    assert (
        response.status_code == 200 and "not a certificate in PEM form" in response.content.decode()
    )
    data["archive_certificate"] = keys.self_signed("Arkiv")[1].decode()
    assert client.post(url, data).status_code == 302
    unit = ArchiveUnit.objects.get()
    assert unit.school == school and unit.confidential
    assert list(unit.responsible_staff.all()) == [admin]
    other = factories.school("Annan skule")
    assert client.get(reverse("archive_units", args=[other.pk])).status_code == 404


def test_the_senders_data_export_lists_her_submissions_and_validates(client, unit, citizen):
    import json

    import jsonschema

    from kontaktbok.privacy.collect import collect
    from kontaktbok.privacy.registry import __file__ as registry_file

    response = client.post(reverse("submission_new"), form_data(unit))
    client.post(response["Location"])
    submission = Submission.objects.get()
    data = collect(citizen, language="nn").data
    [item] = data["submissions"]
    assert item["code"] == submission.code and item["case_number"] == "2026/587"
    assert item["archive_state"] == "queued" and item["organisation_number"] == "974760673"
    schema_path = __import__("pathlib").Path(registry_file).parent / "export_schema.json"
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert collect(factories.user("Nabo"), language="nn").data["submissions"] == []


def _admin_client(client, school):
    from allauth.mfa.totp.internal.auth import TOTP

    from kontaktbok.schools.models import StaffRole

    admin = factories.staff(school, StaffRole.Role.SCHOOL_ADMIN, name="Admin")
    TOTP.activate(admin, factories.TOTP_SECRET)
    client.force_login(admin)
    return admin


def test_the_deliveries_page_lists_by_state_resends_and_keeps_its_query_count(client, unit):
    from tests.archive.conftest import deliver
    from tests.query_counts import assert_same_count, counted

    admin = _admin_client(client, unit.school)
    failed = deliver(unit)
    archive_services.delivery_fail(delivery_id=failed.pk, reason="serverfeil: arkivet er nede")
    client.get(reverse("archive_deliveries"))  # the first visit of a session reads more
    few = counted(client, reverse("archive_deliveries"))
    assert "arkivet er nede" in few.text and few.text.count('data-testid="resend"') == 1
    for _ in range(4):
        deliver(unit)
    more = counted(client, reverse("archive_deliveries"))
    assert more.text.count('data-testid="delivery"') == 5
    assert_same_count(few, more)
    queued = client.get(reverse("archive_deliveries") + "?state=queued").content.decode()
    assert queued.count('data-testid="delivery"') == 4
    response = client.post(reverse("archive_delivery_resend", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == ArchiveDelivery.State.QUEUED
    assert AuditEntry.objects.filter(action="archive.delivery.resent", actor=admin).exists()
    # Another school's admin sees none of it.
    other = factories.school("Annan skule")
    _admin_client(client, other)
    assert client.get(reverse("archive_deliveries")).status_code == 404
    assert client.post(reverse("archive_delivery_resend", args=[failed.pk])).status_code == 404


# The sender's identity number comes from the session's ID-porten login only.


def _arkivmelding(submission) -> str:
    from kontaktbok.archive import arkivmelding

    delivery = submission.delivery
    documents = list(ArchiveDocument.objects.filter(delivery=delivery))
    return arkivmelding.build(archive_services.journal_entry(delivery, documents)).decode()


def _send_as_person(client, unit, channel="none"):
    response = client.post(
        reverse("submission_new"),
        form_data(unit, sender_kind="person", organisation_number="", organisation_name="",
                  case_number="", receipt_channel=channel, name="Siri Borgar"),
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    client.post(response["Location"])
    return Submission.objects.get()


def test_after_an_id_porten_login_the_arkivmelding_carries_the_identity_number(national, unit):
    from django.test import Client

    from kontaktbok.schools.identity import make_test_nin

    pid = make_test_nin("148590", 512) or make_test_nin("148590", 513)
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response, _ = national_login(client, national, pid=pid, acr="idporten-loa-substantial")
    assert response.status_code == 403  # no guardian: the not-registered page
    assert client.post("/accounts/national/citizen/")["Location"] == reverse("submission_new")
    page = client.get(reverse("submission_new")).content.decode()
    assert pid not in page and f"{pid[:6]}*****" in page  # shown back masked only
    # No phone or e-mail on the account: nothing is filled in for the receipt.
    assert 'name="receipt_mobile"' in page and 'name="receipt_email"' in page
    assert 'name="receipt_mobile" value=' not in page
    submission = _send_as_person(client, unit)
    assert submission.receipt_channel == "none" and not Notification.objects.exists()
    receipt = client.get(reverse("submission_receipt", args=[submission.uuid])).content.decode()
    assert submission.code in receipt and "Note the reference" in receipt
    assert archive_services.sender_identifier(submission.delivery) == pid
    xml = _arkivmelding(submission)
    assert re.search(rf"<(\w+:)?personid>{pid}</", xml), xml


def test_after_a_password_login_the_arkivmelding_has_no_identity_number(client, unit, citizen):
    submission = _send_as_person(client, unit, channel="sms")
    assert archive_services.sender_identifier(submission.delivery) == ""
    assert "personid" not in _arkivmelding(submission)


# Where the receipt goes: the mobile number or e-mail address typed on the form.


def _deliveries(kind):
    from kontaktbok.notifications.models import Delivery

    return [(d.channel, d.target) for d in Delivery.objects.filter(notification__kind=kind)]


def _archive_registers(submission):
    from kontaktbok.archive import arkivmelding, standin
    from kontaktbok.archive import delivery as archive_worker

    delivery = submission.delivery
    message_id = uuid.uuid4()
    archive_services.delivery_mark_sent(
        delivery_id=delivery.pk, claimed_at=archive_worker.claim(delivery.pk), message_id=message_id
    )
    archive_services.answer_record(
        message_id=uuid.uuid4(),
        message_type=arkivmelding.KVITTERING,
        sender_account=submission.unit.fiks_account_id,
        in_reply_to=message_id,
        client_message_id=None,
        payload=standin.receipt_xml(year=2026, sequence=77, post=3, created=True, external_key="k"),
    )


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"receipt_mobile": "12"}, "receipt_mobile", "This is not a phone number."),
        ({"receipt_mobile": "22 22 22 22"}, "receipt_mobile", "cannot receive SMS"),
        ({"receipt_mobile": ""}, "receipt_mobile", "Write your mobile number"),
        (
            {"receipt_channel": "email", "receipt_email": ""},
            "receipt_email",
            "Write your e-mail address",
        ),
        (
            {"receipt_channel": "email", "receipt_email": "ase@"},
            "receipt_email",
            "Enter a valid email address.",
        ),
        ({"receipt_channel": "fax"}, "receipt_channel", "Select a valid choice."),
    ],
)
def test_the_receipt_needs_an_address_that_can_take_it(
    client, unit, citizen, typed, field, message
):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # texts asserted in English
    response = client.post(reverse("submission_new"), form_data(unit, **typed))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field]), form.errors
    if field != "receipt_channel":  # a text field: its error links to it
        assert f'href="#id_{field}"' in response.content.decode()
    assert not Submission.objects.exists()


def test_the_receipt_and_the_archive_notice_go_to_the_typed_mobile(client, unit, citizen):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # texts asserted in English
    page = client.get(reverse("submission_new")).content.decode()
    assert 'name="receipt_mobile" value="+4798765432"' in page  # the account's, to start with
    response = client.post(reverse("submission_new"), form_data(unit, receipt_mobile="41234567"))
    assert response.status_code == 302, response.content.decode()[:3000]
    summary = client.get(response["Location"]).content.decode()
    assert "SMS to +47 41 23 45 67" in summary
    client.post(response["Location"])
    submission = Submission.objects.get()
    assert submission.receipt_channel == "sms"
    assert submission.delivery.sender_phone == "+4741234567"  # the archive's contact, too
    assert _deliveries("submissions.receipt_sms") == [("sms", "+4741234567")]
    receipt = client.get(reverse("submission_receipt", args=[submission.uuid])).content.decode()
    assert "by SMS to +4741234567" in receipt
    citizen.refresh_from_db()
    assert citizen.phone == "+4798765432"  # the account is not changed
    _archive_registers(submission)
    assert _deliveries("archive.archived") == [("sms", "+4741234567")]  # not the account's e-mail


def test_the_receipt_goes_to_the_typed_email(client, unit, citizen):
    response = client.post(
        reverse("submission_new"),
        form_data(
            unit, receipt_channel="email", receipt_email="ase@ror.example", receipt_mobile=""
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    client.post(response["Location"])
    submission = Submission.objects.get()
    assert _deliveries("submissions.receipt_email") == [("email", "ase@ror.example")]
    _archive_registers(submission)
    assert _deliveries("archive.archived") == [("email", "ase@ror.example")]
    assert citizen.email != "ase@ror.example"


def test_send_pressed_twice_makes_one_submission_and_one_receipt(client, unit, citizen):
    response = client.post(reverse("submission_new"), form_data(unit))
    confirm = response["Location"]
    first = client.post(confirm)
    second = client.post(confirm)
    submission = Submission.objects.get()
    receipt = reverse("submission_receipt", args=[submission.uuid])
    assert first["Location"] == receipt and second["Location"] == receipt
    assert ArchiveDelivery.objects.count() == 1
    assert _deliveries("submissions.receipt_sms") == [("sms", "+4798765432")]
    # Another person's "Send" on the same draft id finds nothing.
    client.force_login(factories.user("Nabo"))
    assert client.post(confirm).status_code == 404


def test_a_changed_draft_cannot_send_the_receipt_to_a_bad_address(client, unit, citizen):
    from kontaktbok.submissions import services

    response = client.post(reverse("submission_new"), form_data(unit))
    draft = Draft.objects.get()
    services.draft_save(
        actor=citizen,
        draft=draft,
        fields={**draft.fields, "receipt_mobile": "not a number"},
        comment="x",
        files=[],
    )
    page = client.post(response["Location"])
    assert page.status_code == 200 and not Submission.objects.exists()


def test_a_citizen_known_by_id_porten_only_types_a_mobile_for_the_receipt(national, unit):
    from django.test import Client

    from kontaktbok.schools.identity import make_test_nin

    pid = make_test_nin("148590", 514) or make_test_nin("148590", 515)
    client = Client()
    national_login(client, national, pid=pid, acr="idporten-loa-substantial")
    client.post("/accounts/national/citizen/")
    submission = _send_as_person(client, unit, channel="sms")  # form_data types 987 65 432
    assert submission.receipt_channel == "sms"
    assert _deliveries("submissions.receipt_sms") == [("sms", "+4798765432")]
    assert not submission.sender.phone  # used for the receipt, not kept on the account
