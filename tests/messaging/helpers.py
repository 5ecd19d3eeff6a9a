"""Shared test helpers for messaging."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from kontaktbok.messaging import services
from kontaktbok.messaging.models import Message
from kontaktbok.schools.models import StaffRole

Role = StaffRole.Role

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n9\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def pdf(name: str = "brev.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def docx_bytes(main: str = "word/document.xml", content_types: str = "", extra: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types or "<Types/>")
        archive.writestr(main, "<document/>")
        for n in range(extra):
            archive.writestr(f"word/media/{n}.xml", "")
    return buffer.getvalue()


def odt_bytes(
    mimetype: str = "application/vnd.oasis.opendocument.text",
    parts: tuple[str, ...] = ("content.xml", "META-INF/manifest.xml"),
) -> bytes:
    """An OpenDocument file as office suites write it: ``mimetype`` first, stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype)
        for part in parts:
            archive.writestr(part, "<office/>", compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def real_pdf() -> bytes:
    """A PDF as the app itself writes them (WeasyPrint)."""
    from weasyprint import HTML

    return HTML(string="<h1>Melding</h1><p>Hei frå skulen.</p>").write_pdf()


def real_image(kind: str = "PNG") -> bytes:
    """A small picture written by Pillow (PNG, JPEG, GIF or WEBP)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, kind)
    return buffer.getvalue()


_OOXML_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
    'package.core-properties+xml"/></Types>'
)


def real_docx() -> bytes:
    """A Word document with the parts Word writes: content types, relationships, the
    document and its properties, compressed."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": _OOXML_TYPES,
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{rels}"><Relationship '
        'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>',
        "word/_rels/document.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{rels}"/>',
        "word/document.xml": f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body><w:p>'
        "<w:r><w:t>Hei frå heimen</w:t></w:r></w:p>" + "<w:p/>" * 2000 + "</w:body></w:document>",
        "docProps/core.xml": '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
        'openxmlformats.org/package/2006/metadata/core-properties"/>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def real_odt() -> bytes:
    """A text document laid out as LibreOffice writes it: ``mimetype`` first and stored,
    then content, styles, meta, settings, a thumbnail, empty folders and the manifest."""
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    manifest = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    odt = "application/vnd.oasis.opendocument.text"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", odt, compress_type=zipfile.ZIP_STORED)
        body = "<text:p>Hei frå heimen</text:p>" * 500
        archive.writestr(
            "content.xml",
            f'<?xml version="1.0"?><office:document-content xmlns:office="{office}" xmlns:text='
            f'"urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>{body}'
            "</office:text></office:body></office:document-content>",
        )
        for name in ("styles.xml", "meta.xml", "settings.xml"):
            archive.writestr(
                name, f'<?xml version="1.0"?><office:document xmlns:office="{office}"/>'
            )
        archive.writestr("Thumbnails/thumbnail.png", real_image(), compress_type=zipfile.ZIP_STORED)
        archive.writestr("Configurations2/toolbar/", "")
        archive.writestr(
            "META-INF/manifest.xml",
            f'<?xml version="1.0"?><manifest:manifest xmlns:manifest="{manifest}">'
            f'<manifest:file-entry manifest:media-type="{odt}" manifest:full-path="/"/>'
            '<manifest:file-entry manifest:media-type="text/xml" manifest:full-path="content.xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def guardian_thread(world, *, guardian=None, pupil=None, roles=None, body="Hei", **extra):
    """A guardian's thread to the contact teacher (guardian_a about child_a by default)."""
    return services.thread_start_by_guardian(
        actor=guardian or world.guardian_a,
        pupil_id=(pupil or world.child_a).pk,
        roles=roles or [Role.CONTACT_TEACHER],
        subject=extra.pop("subject", "Spørsmål"),
        body=body,
        **extra,
    )


# --- fixtures for tests/test_access_matrix.py ---------------------------------------------


def matrix_thread(world) -> dict[str, int]:
    """guardian_a writes about Aksel (9B) to his contact teacher (contact_teacher_b)."""
    thread = guardian_thread(world, pupil=world.child_a2, files=[pdf()])
    return {"thread_id": thread.pk}


def matrix_file(world) -> dict[str, int]:
    thread_id = matrix_thread(world)["thread_id"]
    message = Message.objects.get(thread_id=thread_id)
    return {"attachment_id": message.attachments.get().pk}


def matrix_broadcast(world) -> dict[str, int]:
    """contact_teacher_b writes to the guardians of 9B (two families)."""
    broadcast = services.broadcast_send(
        actor=world.contact_teacher_b,
        group_ids=[world.class_b.pk],
        subject="Tur",
        body="Hei",
        confirmed_count=2,
    )
    return {"broadcast_id": broadcast.pk}


# Request bodies: valid, so that only the actors allowed succeed.


def matrix_new_thread(world) -> dict:
    """About Aksel (9B): his guardian to the contact teacher, or staff to his guardians."""
    return {
        "pupil_id": world.child_a2.pk,
        "subject": "Spørsmål",
        "body": "Hei",
        "roles": [Role.CONTACT_TEACHER],
    }


def matrix_reply(world) -> dict:
    return {"body": "Svar"}


def matrix_archive(world) -> dict:
    return {"archived": True}


def matrix_add_office(world) -> dict:
    return {"user_id": world.office.pk}


def matrix_add_office_form(world) -> dict:
    return {"member": world.office.staff_memberships.get().pk}


def matrix_new_broadcast(world) -> dict:
    """To the guardians of 9B: two families (Vern's restricted guardian is not told)."""
    return {
        "group_ids": [world.class_b.pk],
        "subject": "Tur",
        "body": "Hei",
        "confirmed_count": 2,
    }
