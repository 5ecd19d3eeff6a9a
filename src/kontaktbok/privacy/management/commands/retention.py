"""``kontaktbok retention [--dry-run]``: what the retention rules delete today."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kontaktbok.privacy import retention


class Command(BaseCommand):
    help = (
        "Delete the records past their retention time (the daily task does the same); "
        "with --dry-run only print what would go and what waits for the archive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--date", type=dt.date.fromisoformat, help="as if today were DATE")

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = retention.run(options["date"], dry_run=options["dry_run"])
        width = max(len(o.rule.code) for o in outcomes)
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{'rule':<{width}}  {'due':>8}  {'held':>8}  {verb:>12}")
        for o in outcomes:
            deleted = o.due - o.held if options["dry_run"] else o.deleted
            self.stdout.write(f"{o.rule.code:<{width}}  {o.due:>8}  {o.held:>8}  {deleted:>12}")
