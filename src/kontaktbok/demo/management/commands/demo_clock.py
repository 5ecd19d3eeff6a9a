import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kontaktbok.core import clock
from kontaktbok.demo import clock as demo_clock
from kontaktbok.demo.data import demo_school


def _moment(text: str) -> dt.datetime:
    """A school-local date and time ("2026-12-03 07:45")."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f'--at wants a date and time such as "2026-12-03 07:45": {text!r}'
        ) from None
    return moment.replace(tzinfo=clock.SCHOOL_TZ) if moment.tzinfo is None else moment


class Command(BaseCommand):
    help = (
        "The demo's clock: show it, set it to the next school morning, run it forward "
        "(to see a missing pupil's case escalate), set it to a given time "
        '(--at "2026-12-03 07:45", school time), or reset it to real time.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--school-morning", action="store_true")
        action.add_argument("--forward", type=int, metavar="MINUTES")
        action.add_argument("--reset", action="store_true")
        action.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"')

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["reset"]:
                demo_clock.reset()
            elif options["at"] is not None:
                demo_clock.to(_moment(options["at"]))
            elif options["forward"] is not None:
                demo_clock.forward(options["forward"])
            elif options["school_morning"]:
                school = demo_school()
                if school is None:
                    raise CommandError("Load the demo first: kontaktbok demo")
                demo_clock.to_school_morning(school)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        offset = clock.demo_offset()
        moved = "" if not offset else f" (moved {offset} from real time)"
        self.stdout.write(f"The demo clock: {clock.local_now():%A %d.%m.%Y %H:%M}{moved}")
