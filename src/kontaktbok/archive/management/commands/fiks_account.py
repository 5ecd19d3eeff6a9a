"""``kontaktbok fiks_account --municipality ORGNR ...``: set a municipality's own Fiks IO
client. Secrets come from files (never the command line, which other users of the machine
and the shell history can read)."""

import uuid
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kontaktbok.archive import services
from kontaktbok.schools.models import Municipality


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} from {path}: {exc.strerror}.") from exc


class Command(BaseCommand):
    help = (
        "Set a municipality's own Fiks IO client (our account, the integration, the "
        "Maskinporten client and the virksomhetssertifikat); run again to change it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="organisation number")
        parser.add_argument("--account", required=True, help="our Fiks IO account id (UUID)")
        parser.add_argument("--integration-id", required=True)
        parser.add_argument(
            "--integration-password-file",
            required=True,
            type=Path,
            help="a file holding the integration password (one line)",
        )
        parser.add_argument("--maskinporten-client-id", required=True)
        parser.add_argument(
            "--key-file", required=True, type=Path, help="our signing key (PEM, unencrypted)"
        )
        parser.add_argument(
            "--certificate-file", required=True, type=Path, help="our certificate (PEM)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = Municipality.objects.filter(org_number=options["municipality"]).first()
        if municipality is None:
            raise CommandError(
                f"No municipality with organisation number {options['municipality']}."
            )
        try:
            account = uuid.UUID(options["account"])
        except ValueError:
            raise CommandError("--account must be a Fiks IO account id (a UUID).") from None
        password = _read(options["integration_password_file"], "integration password")
        try:
            row = services.fiks_client_set(
                actor=None,
                municipality=municipality,
                account_id=account,
                integration_id=options["integration_id"],
                integration_password=password.decode().strip(),
                maskinporten_client_id=options["maskinporten_client_id"],
                signing_key_pem=_read(options["key_file"], "signing key"),
                certificate_pem=_read(options["certificate_file"], "certificate"),
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"{municipality.name} sends from and reads answers on Fiks IO account "
            f"{row.account_id}. Restart `kontaktbok serve` (or archive_consumer) to read it "
            "at once; it is otherwise picked up within a minute."
        )
