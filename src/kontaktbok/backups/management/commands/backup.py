"""``kontaktbok backup``: one encrypted file with the database, the keys and the files,
kept and pruned like the nightly one. ``kontaktbok backup --verify FILE``: restore it into
a scratch place and check it, without touching the live system."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from kontaktbok.backups import archive, services
from kontaktbok.backups.models import BackupRun


class Command(BaseCommand):
    help = "Write an encrypted backup of the database, the keys and the files (or verify one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, help="write here instead of KONTAKTBOK_BACKUP_DIR"
        )
        parser.add_argument("--verify", type=Path, metavar="FILE", help="a backup to verify")
        parser.add_argument(
            "--identity",
            type=Path,
            default=settings.BACKUP_IDENTITY_FILE,
            help="the age private key file (for --verify; keep it off the server)",
        )
        parser.add_argument("--sample", type=int, default=20, help="files to decrypt in --verify")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"]:
            self._verify(options)
            return
        if not settings.BACKUP_RECIPIENT:
            raise CommandError("Set KONTAKTBOK_BACKUP_RECIPIENT to the age public key.")
        run = services.take_backup(output=options["output"])
        if run.status != BackupRun.Status.DONE:
            raise CommandError(f"The backup failed: {run.error}")
        folder = options["output"].parent if options["output"] else settings.BACKUP_DIR
        self.stdout.write(
            f"{Path(folder) / run.name}: {run.rows} rows, {run.size} bytes, "
            f"kept in {run.stored_in}, {run.pruned} old backups pruned"
        )

    def _verify(self, options: dict[str, Any]) -> None:
        if not options["identity"]:
            raise CommandError("--verify needs --identity (the age private key file).")
        try:
            report = archive.verify(
                path=options["verify"],
                identity_file=options["identity"],
                database=archive.Database.from_django(dict(connection.settings_dict)),
                sample=options["sample"],
            )
        except archive.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report)
        self.stdout.write(f"{options['verify']}: verified")
