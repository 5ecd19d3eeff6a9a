"""Shared test helpers for messaging."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from kontaktbok.messaging import services
from kontaktbok.messaging.models import Message
from kontaktbok.schools.models import StaffRole

Role = StaffRole.Role

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def pdf(name: str = "brev.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def docx_bytes(main: str = "word/document.xml", content_types: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types or "<Types/>")
        archive.writestr(main, "<document/>")
    return buffer.getvalue()


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office/>")
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
