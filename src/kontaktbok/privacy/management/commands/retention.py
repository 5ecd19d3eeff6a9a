"""``kontaktbok retention``: what the retention rules delete today, the municipality's
choice of days per rule, and legal holds on a pupil's records."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kontaktbok.privacy import retention
from kontaktbok.schools.models import Pupil


class Command(BaseCommand):
    help = (
        "Delete the records past their retention time (the daily task does the same); "
        "with --dry-run only print what would go and what is held. --choose RULE=DAYS sets "
        "the municipality's number of days for a rule; --hold PUPIL --reason TEXT and "
        "--lift PUPIL set and lift a legal hold on a pupil's records."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--date", type=dt.date.fromisoformat, help="as if today were DATE")
        parser.add_argument("--choose", metavar="RULE=DAYS", help="e.g. notifications=60")
        parser.add_argument("--hold", type=int, metavar="PUPIL", help="the pupil's id")
        parser.add_argument("--reason", default="", help="why the records are held")
        parser.add_argument("--lift", type=int, metavar="PUPIL", help="the pupil's id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["choose"]:
                return self._choose(options["choose"])
            if options["hold"] or options["lift"]:
                return self._hold(options["hold"] or options["lift"], options)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        outcomes = retention.run(options["date"], dry_run=options["dry_run"])
        width = max(len(o.rule.code) for o in outcomes)
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{'rule':<{width}}  {'days':>6}  {'due':>8}  {'held':>8}  {verb:>12}")
        for o in outcomes:
            deleted = o.due - o.held if options["dry_run"] else o.deleted
            days = str(o.days) if o.rule.bounds else "-"
            self.stdout.write(
                f"{o.rule.code:<{width}}  {days:>6}  {o.due:>8}  {o.held:>8}  {deleted:>12}"
            )

    def _choose(self, text: str) -> None:
        code, _sep, days = text.partition("=")
        if not days.isdigit():
            raise CommandError("Give RULE=DAYS, e.g. notifications=60.")
        retention.retention_choose(actor=None, code=code, days=int(days))
        self.stdout.write(f"{code}: {days} days.")

    def _hold(self, pupil_id: int, options: dict[str, Any]) -> None:
        pupil = Pupil.objects.filter(pk=pupil_id).first()
        if pupil is None:
            raise CommandError(f"No pupil with id {pupil_id}.")
        if options["hold"]:
            retention.legal_hold_set(actor=None, pupil=pupil, reason=options["reason"])
            self.stdout.write(f"Pupil {pupil_id}: held.")
        else:
            lifted = retention.legal_hold_lift(actor=None, pupil=pupil)
            self.stdout.write(f"Pupil {pupil_id}: {'lifted' if lifted else 'was not held'}.")
