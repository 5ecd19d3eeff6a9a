"""The audit log's seal: a keyed hash chain per school day, made after commit.

Audit rows are written by many transactions at once, so no chain is computed when a row is
inserted. A periodic task (``seal_pending``) takes the rows that have no seal yet and were
written more than ``SEAL_MARGIN`` ago (so the transactions that wrote them have committed),
in order of (``created_at``, ``id``), and appends each to the chain of its school day
(``created_at`` in Europe/Oslo): ``seal_seq`` is its place (1, 2, ...) and ``seal`` is
HMAC-SHA256, keyed with ``AUDIT_SEAL_KEY``, over the seal before it (for the first, a value
made from the day) and the row's canonical content. Without the key, which is not in the
database, nobody can make a chain that verifies.

The order of a chain is the sealing order, ``seal_seq``, not ``created_at``: a row that
commits late, after later rows of its day were sealed, is appended at the end of its day.

``verify_day`` walks a day by ``seal_seq`` and reports the first break: a row whose content
or seal was changed, a gap in ``seal_seq`` (a row removed), or a row moved to another
place. What a chain cannot show by itself: rows removed from the end of a day (so each
day's last seal is logged when sealing and printed by ``verify_audit``, for a copy outside
the database to compare with), and a row changed in the minutes before it was sealed.
"""

import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry

log = logging.getLogger(__name__)

# Rows younger than this are left for the next run: their transaction may still be open,
# and a row with a lower id may yet commit.
SEAL_MARGIN = dt.timedelta(minutes=2)
# An unsealed row older than this means the sealing task is not running.
SEAL_OVERDUE = dt.timedelta(hours=1)
# Rows sealed per transaction.
BATCH = 2000
# The PostgreSQL advisory lock held while sealing ("audit" in ASCII).
_LOCK = 0x6175646974

# The columns a seal covers, besides the actor as sealed.
CONTENT = (
    "id",
    "action",
    "actor_name",
    "role",
    "school_id",
    "object_type",
    "object_id",
    "pupil_id",
    "detail",
    "created_at",
)

CHANGED = "changed"
MISSING = "missing"
REORDERED = "reordered"


def school_day(moment: dt.datetime) -> dt.date:
    """The school day (Europe/Oslo) whose chain a row written at ``moment`` belongs to."""
    return moment.astimezone(clock.SCHOOL_TZ).date()


def _hmac(message: bytes) -> str:
    return hmac.new(settings.AUDIT_SEAL_KEY.encode(), message, hashlib.sha256).hexdigest()


def day_start(day: dt.date) -> str:
    """The value the first row of ``day`` is chained to."""
    return _hmac(f"kontaktbok audit day {day.isoformat()}".encode())


def canonical(row: Mapping[str, Any], *, actor_id: int | None) -> bytes:
    """A row's content as it is sealed: ASCII JSON with sorted keys and no spaces (``detail``
    included), the time in UTC to the microsecond, and the actor as it was when sealed."""
    content = {name: row[name] for name in CONTENT}
    content["actor_id"] = actor_id
    content["created_at"] = row["created_at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def chain(previous: str, content: bytes) -> str:
    """The seal of a row with ``content`` that follows the seal ``previous``."""
    return _hmac(previous.encode() + b"\n" + content)


def _same(seal: str, stored: str) -> bool:
    return hmac.compare_digest(seal.encode(), stored.encode())


# Sealing ---------------------------------------------------------------------------------


def seal_pending() -> int:
    """Seal every row written more than ``SEAL_MARGIN`` ago that has no seal yet; returns
    how many. Running it again seals nothing twice. Of two sealers at once, on PostgreSQL
    the second leaves at once (an advisory lock); on SQLite the writes take turns."""
    cutoff = clock.now() - SEAL_MARGIN
    sealed = 0
    while True:
        with transaction.atomic(durable=True):
            if not _take_lock():
                return sealed
            count, tails = _seal_batch(cutoff)
        sealed += count
        for day, (seq, seal) in sorted(tails.items()):
            log.info("audit log sealed: %s up to place %d, last seal %s", day, seq, seal)
        if count < BATCH:
            return sealed


def _take_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        return bool(cursor.fetchone()[0])


def _seal_batch(cutoff: dt.datetime) -> tuple[int, dict[dt.date, tuple[int, str]]]:
    """Seal up to ``BATCH`` of the oldest unsealed rows; returns how many, and each touched
    day's new end of chain (place, seal)."""
    rows = list(
        AuditEntry.objects.select_for_update()  # an account deletion waits until sealed
        .filter(seal="", created_at__lt=cutoff)
        .order_by("created_at", "id")
        .values("actor_id", *CONTENT)[:BATCH]
    )
    if not rows:
        return 0, {}
    ops = connection.ops
    sealed_at = ops.adapt_datetimefield_value(clock.now())
    tails: dict[dt.date, tuple[int, str]] = {}
    updates = []
    for row in rows:
        day = school_day(row["created_at"])
        if day not in tails:
            tails[day] = _end_of_chain(day)
        seq, previous = tails[day]
        seal = chain(previous, canonical(row, actor_id=row["actor_id"]))
        tails[day] = (seq + 1, seal)
        updates.append(
            (seal, ops.adapt_datefield_value(day), seq + 1, sealed_at, row["actor_id"], row["id"])
        )
    table = ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        # The one UPDATE the append-only triggers allow (migration 0005).
        cursor.executemany(
            f"UPDATE {table} SET seal = %s, seal_day = %s, seal_seq = %s, sealed_at = %s,"  # noqa: S608
            " sealed_actor_id = %s WHERE id = %s AND seal = ''",
            updates,
        )
    return len(rows), tails


def _end_of_chain(day: dt.date) -> tuple[int, str]:
    """The place and seal of the last sealed row of ``day`` (0 and the day's start value
    when it has none yet)."""
    last = (
        AuditEntry.objects.filter(seal_day=day, seal_seq__isnull=False)
        .order_by("-seal_seq")
        .values_list("seal_seq", "seal")
        .first()
    )
    if last is None or last[0] is None:
        return 0, day_start(day)
    return last[0], last[1]


# Verifying -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first row of a day's chain that does not verify, and why."""

    entry_id: int
    day: dt.date
    seq: int | None
    kind: str  # CHANGED, MISSING or REORDERED
    explanation: str


@dataclass(frozen=True)
class DayResult:
    day: dt.date
    rows: int  # rows that verified (before the break, if any)
    last_seal: str  # the seal of the last row that verified (the day's start value if none)
    broken: Break | None = None


def sealed_days(*, first: dt.date | None = None, last: dt.date | None = None) -> list[dt.date]:
    """The days that have sealed rows, oldest first, within ``first``..``last``."""
    days = AuditEntry.objects.filter(seal_day__isnull=False)
    if first is not None:
        days = days.filter(seal_day__gte=first)
    if last is not None:
        days = days.filter(seal_day__lte=last)
    ordered = days.order_by("seal_day").values_list("seal_day", flat=True).distinct()
    return [day for day in ordered if day is not None]


def verify_day(day: dt.date) -> DayResult:
    """Recompute the chain of ``day`` in ``seal_seq`` order; stop at the first break.

    The rows are streamed with only the columns needed, so a year is checked in constant
    memory. The actor may have become NULL since sealing (the account was deleted); any
    other change of it is a break."""
    rows = (
        AuditEntry.objects.filter(seal_day=day)
        .order_by("seal_seq")
        .values("seal_seq", "seal", "sealed_actor_id", "actor_id", *CONTENT)
    )
    previous, expected = day_start(day), 1
    for row in rows.iterator(chunk_size=BATCH):
        broken = _check(row, day=day, expected=expected, previous=previous)
        if broken is not None:
            return DayResult(day=day, rows=expected - 1, last_seal=previous, broken=broken)
        previous, expected = row["seal"], expected + 1
    return DayResult(day=day, rows=expected - 1, last_seal=previous)


def _check(row: Mapping[str, Any], *, day: dt.date, expected: int, previous: str) -> Break | None:
    def broken(kind: str, explanation: str) -> Break:
        return Break(row["id"], day, row["seal_seq"], kind, explanation)

    seq = row["seal_seq"]
    if seq is None:
        return broken(CHANGED, "the row has a day in the chain but no place in it")
    if seq > expected:
        missing = str(expected) if seq == expected + 1 else f"{expected}-{seq - 1}"
        return broken(MISSING, f"place {missing} of the chain is missing before this row")
    if seq < expected:
        return broken(REORDERED, f"place {seq} of the chain is taken twice")
    if row["actor_id"] not in (None, row["sealed_actor_id"]):
        return broken(CHANGED, f"actor changed from {row['sealed_actor_id']} to {row['actor_id']}")
    content = canonical(row, actor_id=row["sealed_actor_id"])
    if _same(chain(previous, content), row["seal"]):
        return None
    if _sealed_elsewhere(day, content, row["seal"]):
        return broken(REORDERED, "the row is intact but was sealed after another row")
    return broken(
        CHANGED,
        "content or seal changed (or the row before it removed and the rest renumbered)",
    )


def _sealed_elsewhere(day: dt.date, content: bytes, seal: str) -> bool:
    """Whether ``seal`` is the row's seal after some other row of the day (or the day's
    start): the row is intact and was moved. Read only after a break."""
    others = AuditEntry.objects.filter(seal_day=day).values_list("seal", flat=True)
    candidates = itertools.chain([day_start(day)], others.iterator(chunk_size=BATCH))
    return any(_same(chain(other, content), seal) for other in candidates)


def overdue_unsealed() -> tuple[int, dt.datetime | None]:
    """How many rows are older than ``SEAL_OVERDUE`` and still unsealed, and the oldest's
    time: more than none means the sealing task has not run."""
    rows = AuditEntry.objects.filter(seal="", created_at__lt=clock.now() - SEAL_OVERDUE)
    oldest = rows.order_by("created_at").values_list("created_at", flat=True).first()
    return rows.count(), oldest
