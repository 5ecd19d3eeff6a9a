"""Which backups to keep: the newest of each of the last 7 days, 4 weeks and 12 months
that have one (the grandfather-father-son rule); the rest are pruned. Days, weeks and
months are counted in school-local time."""

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from kontaktbok.core.clock import SCHOOL_TZ


@dataclass(frozen=True)
class Keep:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    @classmethod
    def parse(cls, text: str) -> "Keep":
        """``"7,4,12"`` (daily, weekly, monthly)."""
        daily, weekly, monthly = (int(part) for part in text.split(","))
        if min(daily, weekly, monthly) < 0 or daily < 1:
            raise ValueError("keep at least one daily backup, and no negative counts")
        return cls(daily, weekly, monthly)


def _day(moment: dt.datetime) -> Hashable:
    return moment.astimezone(SCHOOL_TZ).date()


def _week(moment: dt.datetime) -> Hashable:
    return moment.astimezone(SCHOOL_TZ).isocalendar()[:2]


def _month(moment: dt.datetime) -> Hashable:
    local = moment.astimezone(SCHOOL_TZ)
    return (local.year, local.month)


def to_keep(taken: Iterable[tuple[str, dt.datetime]], keep: Keep) -> set[str]:
    """The names among ``taken`` (name, when it was taken) that the rule keeps."""
    newest_first = sorted(taken, key=lambda item: item[1], reverse=True)
    kept: set[str] = set()
    rules: list[tuple[Callable[[dt.datetime], Hashable], int]] = [
        (_day, keep.daily),
        (_week, keep.weekly),
        (_month, keep.monthly),
    ]
    for period, count in rules:
        seen: set[Hashable] = set()
        for name, moment in newest_first:
            if len(seen) >= count:
                break
            bucket = period(moment)
            if bucket not in seen:
                seen.add(bucket)
                kept.add(name)
    return kept
