"""Attachments: the type by content, encryption at rest with rotatable keys, and downloads
that are access-checked and audited."""

import io

import pytest
from cryptography.exceptions import InvalidTag
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.messaging import files
from kontaktbok.messaging.models import AttachmentContent
from tests.messaging.helpers import PDF, PNG, docx_bytes, guardian_thread, odt_bytes, pdf

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("a.png", PNG, "image/png"),
        ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("a.gif", b"GIF89a" + b"\x00" * 20, "image/gif"),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("a.heic", b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        ("a.docx", docx_bytes(), DOCX),
        ("a.xlsx", docx_bytes("xl/workbook.xml"), XLSX),
        ("a.odt", odt_bytes(), "application/vnd.oasis.opendocument.text"),
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "application/msword"),
        # Not accepted: programs, web pages, SVG, unknown zips, macros, OLE of another name.
        ("a.exe", b"MZ\x90\x00", None),
        ("a.html", b"<!doctype html><script>", None),
        ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        ("a.zip", docx_bytes("other.xml"), None),
        (
            "a.docm",
            docx_bytes(content_types="application/vnd.ms-word.document.macroEnabled.main+xml"),
            None,
        ),
        ("a.msi", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, None),
        ("a.pdf", b"", None),
    ],
)
def test_type_is_found_by_content(name, data, expected):
    assert files.detect(io.BytesIO(data), name) == expected


def test_name_must_fit_the_content():
    assert files.name_fits("application/pdf", "brev.PDF")
    assert not files.name_fits("application/pdf", "brev.html")
    assert files.safe_filename("../../etc/passwd") == "passwd"
    assert files.safe_filename('C:\\x\\"a<b>.pdf') == "ab.pdf"


def test_encryption_round_trip_and_binding(settings):
    blob = files.encrypt(b"hemmeleg", name="a")
    assert b"hemmeleg" not in blob and blob.startswith(files.MAGIC)
    assert files.decrypt(blob, name="a") == b"hemmeleg"
    with pytest.raises(InvalidTag):  # a blob moved to another attachment does not open
        files.decrypt(blob, name="b")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(InvalidTag):
        files.decrypt(tampered, name="a")


def test_key_rotation(settings):
    settings.FILE_KEY = "old-key"
    settings.FILE_KEYS_OLD = []
    blob = files.encrypt(b"data", name="a")
    settings.FILE_KEY = "new-key"
    with pytest.raises(files.UnknownKeyError):
        files.decrypt(blob, name="a")
    settings.FILE_KEYS_OLD = ["old-key"]
    assert files.decrypt(blob, name="a") == b"data"
    assert files.encrypt(b"data", name="a")[4:20] != blob[4:20]  # the new key's id


@pytest.mark.django_db
def test_stored_encrypted_and_downloaded_with_audit(world):
    thread = guardian_thread(world, files=[pdf("Lege attest.pdf")])
    attachment = thread.messages.get().attachments.get()
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    stored = bytes(AttachmentContent.objects.get(attachment=attachment).ciphertext)
    assert PDF not in stored
    client = Client()
    client.force_login(world.contact_teacher_a)
    response = client.get(reverse("messaging_attachment", kwargs={"attachment_id": attachment.pk}))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Lege attest.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(action="messaging.attachment.downloaded")
    assert entry.actor == world.contact_teacher_a and entry.object_id == str(attachment.pk)


@pytest.mark.django_db
def test_download_of_another_familys_attachment_is_404_and_not_audited(world):
    thread = guardian_thread(world, files=[pdf()])
    attachment = thread.messages.get().attachments.get()
    client = Client()
    client.force_login(world.guardian_b)
    response = client.get(reverse("messaging_attachment", kwargs={"attachment_id": attachment.pk}))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="messaging.attachment.downloaded").exists()


@pytest.mark.django_db
def test_too_many_files(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        guardian_thread(world, files=[pdf(f"{n}.pdf") for n in range(6)])
    assert "attachments" in error.value.message_dict


@pytest.mark.django_db
def test_reply_with_an_image(world):
    from kontaktbok.messaging import services

    thread = guardian_thread(world)
    message = services.message_reply(
        actor=world.contact_teacher_a,
        thread_id=thread.pk,
        body="Bilete frå turen",
        files=[SimpleUploadedFile("tur.png", PNG)],
    )
    assert message.attachments.get().content_type == "image/png"


def test_upload_handler_drops_a_file_as_soon_as_it_passes_the_limit(rf):
    from django.core.files.uploadhandler import SkipFile

    from kontaktbok.messaging.uploads import LimitedUploadHandler

    handler = LimitedUploadHandler(rf.post("/"), limit=10)
    handler.new_file("attachments", "stor.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"678901", 5)
    assert handler.too_large == ["stor.pdf"]
    handler.new_file("attachments", "liten.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"123", 0) == b"123"
