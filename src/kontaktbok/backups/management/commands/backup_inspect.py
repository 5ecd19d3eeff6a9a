"""Used by ``kontaktbok restore`` and ``backup --verify`` in a process of their own: the
migrations this code knows, and the checks that open what the restored keys protect."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.migrations.loader import MigrationLoader

from kontaktbok.backups import archive


class Command(BaseCommand):
    help = "Internal: what this code knows (--migrations), or checks on a restored system."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--migrations", action="store_true")
        parser.add_argument("--checks", type=int, metavar="SAMPLE")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["migrations"]:
            loader = MigrationLoader(None, ignore_no_migrations=True)
            self.stdout.write(json.dumps(sorted(loader.disk_migrations)))
            return
        if options["checks"] is None:
            raise CommandError("Give --migrations or --checks SAMPLE.")
        try:
            for line in archive.run_restore_checks(options["checks"]):
                self.stdout.write(line)
        except archive.BackupError as exc:
            raise CommandError(str(exc)) from exc
