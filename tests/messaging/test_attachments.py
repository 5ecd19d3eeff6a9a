"""Attachments: the type by content, encryption at rest with rotatable keys, and downloads
that are access-checked and audited."""

import io
import tracemalloc
import zipfile

import pytest
from cryptography.exceptions import InvalidTag
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kontaktbok.core.models import AuditEntry
from kontaktbok.messaging import files
from kontaktbok.messaging.models import AttachmentContent, Thread
from tests.messaging.helpers import (
    PDF,
    PNG,
    docx_bytes,
    guardian_thread,
    odt_bytes,
    pdf,
    real_docx,
    real_image,
    real_odt,
    real_pdf,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"


def heif(major: bytes, *compatible: bytes) -> bytes:
    box = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (len(box) + 4).to_bytes(4, "big") + box + b"\x00" * 16


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("a.png", PNG, "image/png"),
        ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("a.gif", b"GIF89a" + b"\x00" * 20, "image/gif"),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("a.heic", b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        ("a.heic", heif(b"mif1", b"mif1", b"heic"), "image/heic"),
        ("a.docx", docx_bytes(), DOCX),
        ("a.xlsx", docx_bytes("xl/workbook.xml"), XLSX),
        ("a.odt", odt_bytes(), ODT),
        ("a.ods", odt_bytes(ODS), ODS),
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
        ("a.msi", OLE, None),
        ("a.pdf", b"", None),
        ("a.heic", heif(b"mif1", b"mif1", b"avif"), None),
        # The old binary Office formats (OLE), whatever the name.
        ("a.doc", OLE, None),
        ("a.xls", OLE, None),
        ("a.ppt", OLE, None),
        # A zip whose mimetype member claims another type is a zip, not that type.
        ("a.pdf", odt_bytes("application/pdf"), None),
        ("a.png", odt_bytes("image/png"), None),
        # A PDF header in front of something else is no PDF; data in front of a zip, no
        # office document.
        ("a.pdf", b"%PDF-1.7\n" + docx_bytes(), None),
        ("a.docx", b"junk" + docx_bytes(), None),
        ("a.odt", odt_bytes("application/zip"), None),
        # ODF needs its structure, and no macros.
        ("a.odt", odt_bytes(parts=("content.xml",)), None),
        ("a.odt", odt_bytes(parts=("META-INF/manifest.xml",)), None),
        ("a.odt", odt_bytes(parts=("content.xml", "META-INF/manifest.xml", "Basic/m.xml")), None),
    ],
)
def test_type_is_found_by_content(name, data, expected):
    assert files.detect(io.BytesIO(data)) == expected
    if expected:
        assert files.name_fits(expected, name)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("Lege attest.pdf", real_pdf(), "application/pdf"),
        ("bilete.png", real_image("PNG"), "image/png"),
        ("bilete.jpg", real_image("JPEG"), "image/jpeg"),
        ("bilete.gif", real_image("GIF"), "image/gif"),
        ("bilete.webp", real_image("WEBP"), "image/webp"),
        ("søknad.docx", real_docx(), DOCX),
        ("søknad.odt", real_odt(), ODT),
    ],
)
def test_real_files_are_accepted(world, name, data, expected):
    thread = guardian_thread(world, files=[SimpleUploadedFile(name, data)])
    attachment = thread.messages.get().attachments.get()
    assert (attachment.filename, attachment.content_type) == (name, expected)


def test_old_office_formats_are_refused_with_what_is_accepted(world):
    from django.core.exceptions import ValidationError

    assert ".doc," not in files.ACCEPT + "," and "application/msword" not in files.ALLOWED
    with translation.override("en"), pytest.raises(ValidationError) as error:
        guardian_thread(world, files=[SimpleUploadedFile("referat.doc", OLE)])
    (message,) = error.value.message_dict["attachments"]
    assert "referat.doc" in message and "old Office format" in message
    assert ".docx" in message and ".odt" in message and "PDF" in message
    assert not Thread.objects.exists()


def test_a_zip_claiming_to_be_a_pdf_is_refused_with_what_is_accepted(world):
    from django.core.exceptions import ValidationError

    with translation.override("en"), pytest.raises(ValidationError) as error:
        guardian_thread(world, files=[SimpleUploadedFile("brev.pdf", odt_bytes("application/pdf"))])
    (message,) = error.value.message_dict["attachments"]
    assert "brev.pdf cannot be attached" in message and ".docx" in message
    assert not Thread.objects.exists()


def _bomb(size: int, *, name: str = "[Content_Types].xml", level: int = 1) -> bytes:
    """An office-looking zip with one member of ``size`` zeros, written as a stream (the
    zeros are never held whole), which compresses to a small fraction of it."""
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        with z.open(name, "w", force_zip64=size > 2**31) as member:
            for _ in range(size // len(chunk)):
                member.write(chunk)
        z.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_without_decompressing_it():
    data = _bomb(512 * 1024 * 1024)
    assert len(data) < 3 * 1024 * 1024  # a small upload, well under the size limit
    tracemalloc.start()
    try:
        assert files.detect(io.BytesIO(data)) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(data)  # nothing near the 512 MB the member declares


@pytest.mark.parametrize(
    "data",
    [
        # One member that compresses a thousandfold (under the total, over the ratio).
        pytest.param(lambda: _bomb(48 * 1024 * 1024, name="word/media/a.xml", level=9), id="ratio"),
        # Members beyond any office document, declared in the end record.
        pytest.param(lambda: docx_bytes(extra=files.MAX_MEMBERS), id="members"),
    ],
)
def test_archives_declaring_absurd_contents_are_refused(data):
    assert files.detect(io.BytesIO(data())) is None


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


def test_upload_handler_asks_the_limit_only_above_the_smallest_there_can_be(rf):
    from django.core.files.uploadhandler import SkipFile

    from kontaktbok.messaging.uploads import LimitedUploadHandler

    asked = []

    def limit() -> int:
        asked.append(True)
        return 12

    handler = LimitedUploadHandler(rf.post("/"), limit=limit, floor=10)
    handler.new_file("attachments", "liten.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"1234567890", 0) == b"1234567890"
    assert not asked  # no school needs asking for a file this small
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"123", 10)
    assert asked == [True] and handler.too_large == ["liten.pdf"]
