"""The demo's archive units: the school and the school health service of the demo
municipality, filed by the local archive stand-in."""

import uuid

from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management.base import BaseCommand

from kontaktbok.archive import services
from kontaktbok.archive.management.commands.fiks_standin import archive_credentials
from kontaktbok.archive.models import ArchiveUnit
from kontaktbok.schools.models import School, StaffRole


class Command(BaseCommand):
    help = "Set up the demo's archive units (once)"

    def handle(self, *args: object, **options: object) -> None:
        school = School.objects.select_related("municipality").order_by("pk").first()
        if school is None or ArchiveUnit.objects.exists():
            return
        certificate = archive_credentials().certificate.public_bytes(Encoding.PEM)
        admins = [
            role.member.user
            for role in StaffRole.objects.filter(
                member__school=school, role=StaffRole.Role.SCHOOL_ADMIN
            ).select_related("member__user")
            if role.member.user is not None
        ]
        for name, confidential, key in (
            (school.name, False, "a1"),
            ("Helsestasjon for skule- og ungdom", True, "a2"),
        ):
            services.unit_create(
                actor=None,
                municipality=school.municipality,
                school=school,
                name=name,
                fiks_account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"kontaktbok-demo-{key}"),
                archive_certificate=certificate.decode(),
                confidential=confidential,
                responsible_staff=admins,
            )
