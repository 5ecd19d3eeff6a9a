"""``kontaktbok verify_audit``: recompute the audit log's hash chains and report, per day,
the rows checked and the day's last seal (to keep and compare: rows removed from the end of
a day show only there), or the first break; exits non-zero on a break
(``core/audit_seal.py``)."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kontaktbok.core import audit_seal, clock


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Verify the audit log's seal: each sealed day's chain, and rows left unsealed."

    def add_arguments(self, parser: CommandParser) -> None:
        days = parser.add_mutually_exclusive_group()
        days.add_argument("--day", type=_date, metavar="YYYY-MM-DD", help="only this day")
        days.add_argument(
            "--since", type=_date, metavar="YYYY-MM-DD", help="this day and every day after"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day, since = options["day"], options["since"]
        days = audit_seal.sealed_days(first=day or since, last=day)
        if day is not None and not days:
            self.stdout.write(f"{day}: no sealed rows")
        rows = 0
        broken = []
        for result in map(audit_seal.verify_day, days):
            rows += result.rows
            if (at := result.broken) is None:
                self.stdout.write(
                    f"{result.day}: {result.rows} rows, chain intact,"
                    f" last seal {result.last_seal[:16]}"
                )
                continue
            broken.append(at)
            self.stdout.write(
                self.style.ERROR(
                    f"{result.day}: BROKEN after {result.rows} rows: row id {at.entry_id}"
                    f" (place {at.seq}): {at.kind}: {at.explanation}"
                )
            )
        count, oldest = audit_seal.overdue_unsealed()
        if count and oldest is not None:
            local = oldest.astimezone(clock.SCHOOL_TZ)
            self.stdout.write(
                self.style.WARNING(
                    f"warning: {count} rows older than an hour are not sealed (the oldest"
                    f" written {local:%Y-%m-%d %H:%M}); are the scheduler and a worker running?"
                )
            )
        if broken:
            raise CommandError(
                f"The audit log's chain is broken on {len(broken)} of {len(days)} days."
            )
        self.stdout.write(f"{len(days)} days, {rows} rows: every chain intact")
