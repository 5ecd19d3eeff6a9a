"""``kontaktbok school_calendar``: the municipality's school calendar (skolerute) for a
year, which every school of the municipality takes when it turns its year."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kontaktbok.schools.calendars import municipal_calendar_set
from kontaktbok.schools.models import Municipality


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text} is not a date (YYYY-MM-DD).") from error


class Command(BaseCommand):
    help = (
        "Set the municipality's school calendar for one school year: first and last school "
        "day and each holiday or planning day. Run again to change it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="organisation number")
        parser.add_argument("--name", required=True, help='the school year, e.g. "2027–2028"')
        parser.add_argument("--first-day", required=True, help="YYYY-MM-DD")
        parser.add_argument("--last-day", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--holiday",
            nargs=3,
            action="append",
            default=[],
            metavar=("NAME", "FROM", "TO"),
            help="e.g. --holiday Haustferie 2027-10-04 2027-10-08 (repeat for each)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["municipality"]
        municipality = Municipality.objects.filter(org_number=number).first()
        if municipality is None:
            raise CommandError(f"No municipality with organisation number {number}.")
        try:
            calendar = municipal_calendar_set(
                actor=None,
                municipality=municipality,
                name=options["name"],
                starts_on=_day(options["first_day"]),
                ends_on=_day(options["last_day"]),
                holidays=[(name, _day(a), _day(b)) for name, a, b in options["holiday"]],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"{municipality.name}: {calendar.name} from {calendar.starts_on} to "
            f"{calendar.ends_on} with {len(calendar.holidays)} holidays."
        )
