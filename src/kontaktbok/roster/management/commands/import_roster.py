"""``kontaktbok import_roster FILE --school ORG``: the roster import for a nightly job."""

import io
import zipfile
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from kontaktbok.roster import services
from kontaktbok.schools.models import School


class Command(BaseCommand):
    help = (
        "Import a school's roster: kontaktbok's CSV, a OneRoster 1.2 ZIP, or a folder of "
        "OneRoster CSV files. Applies the changes unless --dry-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--school", required=True, help="organisation number or id")
        parser.add_argument("--dry-run", action="store_true", help="only show what would change")

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["school"]
        query = Q(org_number=number) | (Q(pk=int(number)) if number.isdigit() else Q())
        school = School.objects.filter(query).first()
        if school is None:
            raise CommandError(f"No school with organisation number or id {number}.")
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            if options["dry_run"]:
                counts, rejected = services.roster_check(school=school, data=_read(path))
            else:
                item = services.roster_preview(
                    actor=None, school=school, file_name=path.name, data=_read(path)
                )
                if not services.roster_apply(actor=None, roster_import=item):
                    raise CommandError("The school changed while reading; run again.")
                counts, rejected = item.counts, item.rejections()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        for row in rejected:
            self.stdout.write(f"{row.file}:{row.line}: {row.message}")
        changes = {name: n for name, n in counts.items() if n and name != "rejected"}
        verb = "Would change" if options["dry_run"] else "Changed"
        summary = ", ".join(f"{name} {n}" for name, n in changes.items()) or "no changes"
        self.stdout.write(f"{verb}: {summary}. Rows not taken: {len(rejected)}.")


def _read(path: Path) -> bytes:
    """A file as it is; a folder of OneRoster CSV files as one ZIP."""
    if not path.is_dir():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in sorted(path.glob("*.csv")):
            archive.write(member, member.name)
    return buffer.getvalue()
