import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction

from kontaktbok.core import audit_seal, scheduler
from kontaktbok.core.audit import audit_log
from kontaktbok.core.models import AuditEntry
from kontaktbok.core.tasks import seal_audit_log
from tests import factories

OSLO = dt.timezone(dt.timedelta(hours=1))  # November: CET
MONDAY = dt.date(2026, 11, 23)
TUESDAY = dt.date(2026, 11, 24)
TABLE = AuditEntry._meta.db_table


def at(day: dt.date, hour: int, minute: int = 0) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour, minute), OSLO), tick=False)


def write(day: dt.date, hour: int, minute: int = 0, **detail: str) -> AuditEntry:
    with at(day, hour, minute):
        return audit_log(actor=None, action="test.thing.done", detail=detail)


def seal(day: dt.date = TUESDAY, hour: int = 12) -> int:
    with at(day, hour):
        return audit_seal.seal_pending()


def fresh(entry: AuditEntry) -> AuditEntry:
    return AuditEntry.objects.get(pk=entry.pk)


@contextmanager
def trigger_bypassed() -> Iterator[None]:
    """What someone with access to the database can do: switch the append-only trigger off
    for a moment (and on again)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a superuser's session fires no triggers
            cursor.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
            return
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
            ["core_auditentry_no_update"],
        )
        (trigger,) = cursor.fetchone()
        cursor.execute("DROP TRIGGER core_auditentry_no_update")
        try:
            yield
        finally:
            cursor.execute(trigger)


def tamper(entry: AuditEntry, **fields: object) -> None:
    """Change a row behind the model's and the trigger's back."""
    with trigger_bypassed():
        models.QuerySet.update(AuditEntry.objects.filter(pk=entry.pk), **fields)


def remove(entry: AuditEntry) -> None:
    with trigger_bypassed(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])  # noqa: S608


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def three(db) -> list[AuditEntry]:
    """Three rows of Tuesday morning, sealed."""
    entries = [write(TUESDAY, 8, minute, n=str(minute)) for minute in (0, 10, 20)]
    assert seal() == 3
    return entries


# Sealing


def test_sealing_chains_the_rows_of_each_school_day(db):
    monday = [write(MONDAY, 9), write(MONDAY, 23, 50)]
    # 00:30 in Oslo is still Monday in UTC: the row belongs to Tuesday's chain.
    tuesday = [write(TUESDAY, 0, 30), write(TUESDAY, 8)]
    assert seal() == 4
    for day, entries in ((MONDAY, monday), (TUESDAY, tuesday)):
        previous = audit_seal.day_start(day)
        for place, entry in enumerate(map(fresh, entries), start=1):
            assert (entry.seal_day, entry.seal_seq) == (day, place)
            row = AuditEntry.objects.values().get(pk=entry.pk)
            assert entry.seal == audit_seal.chain(
                previous, audit_seal.canonical(row, actor_id=None)
            )
            previous = entry.seal
    assert audit_seal.day_start(MONDAY) != audit_seal.day_start(TUESDAY)


def test_any_detail_is_sealed_as_the_database_gives_it_back(db, caplog):
    """PostgreSQL keeps ``detail`` as jsonb (its own key order, numbers as numerics): the
    seal is made from what the database returns, so it verifies on either database."""
    detail = {"zeta": {"b": 2, "a": [1.5, 10, "æøå – \u2603"]}, "alpha": None, "n": 1e20}
    with at(TUESDAY, 8):
        entry = audit_log(actor=None, action="test.thing.done", detail=detail)
    with caplog.at_level("INFO", logger="kontaktbok.core.audit_seal"):
        assert seal() == 1
    assert audit_seal.verify_day(TUESDAY) == audit_seal.DayResult(
        day=TUESDAY, rows=1, last_seal=fresh(entry).seal
    )
    assert f"2026-11-24 up to place 1, last seal {fresh(entry).seal}" in caplog.text


def test_sealing_again_seals_nothing_twice(three):
    seals = [fresh(entry).seal for entry in three]
    assert seal() == 0
    assert seal(hour=13) == 0
    assert [fresh(entry).seal for entry in three] == seals
    later = write(TUESDAY, 12, 30)
    assert seal(hour=13) == 1
    assert (fresh(later).seal_seq, [fresh(entry).seal for entry in three]) == (4, seals)


def test_rows_younger_than_the_margin_wait_for_the_next_run(db):
    entry = write(TUESDAY, 8)
    assert seal(hour=8) == 0
    with at(TUESDAY, 8, 3):
        assert audit_seal.seal_pending() == 1
    assert fresh(entry).seal


def test_a_row_committed_late_is_sealed_at_the_end_of_its_day(three):
    """A transaction that wrote at 08:05 committed after 08:20 was sealed: the chain's
    order is the sealing order."""
    late = write(TUESDAY, 8, 5)
    assert seal(hour=13) == 1
    assert fresh(late).seal_seq == 4
    assert audit_seal.verify_day(TUESDAY) == audit_seal.DayResult(
        day=TUESDAY, rows=4, last_seal=fresh(late).seal
    )


def test_sealing_goes_in_batches(db, monkeypatch):
    monkeypatch.setattr(audit_seal, "BATCH", 2)
    for minute in range(5):
        write(TUESDAY, 8, minute)
    assert seal() == 5
    assert audit_seal.verify_day(TUESDAY).rows == 5


def test_the_sealing_task_runs_every_minute(db):
    assert any(
        item.task.name == "seal_audit_log" and item.every_minutes == 1
        for item in scheduler.registered()
    )
    entry = write(TUESDAY, 8)
    with at(TUESDAY, 9):
        assert seal_audit_log.call() == 1
    assert fresh(entry).seal_seq == 1


# Verifying


def test_verify_passes_on_an_intact_log(three):
    write(MONDAY, 10)
    seal()
    out = verify()
    assert "2026-11-23: 1 rows, chain intact" in out
    assert f"2026-11-24: 3 rows, chain intact, last seal {fresh(three[2]).seal[:16]}" in out
    assert "2 days, 4 rows: every chain intact" in out
    assert "warning" not in out
    assert "2026-11-23" not in verify("--day", "2026-11-24")
    assert "2026-11-23" not in verify("--since", "2026-11-24")


@pytest.mark.parametrize(
    "change", [{"detail": {"n": "forged"}}, {"action": "test.thing.undone"}, {"role": "x"}]
)
def test_a_changed_row_is_found(three, change):
    tamper(three[1], **change)
    result = audit_seal.verify_day(TUESDAY)
    assert result.rows == 1
    assert result.broken is not None
    assert (result.broken.entry_id, result.broken.kind) == (three[1].pk, audit_seal.CHANGED)
    out = StringIO()
    with pytest.raises(CommandError, match="broken on 1 of 1 days"):
        call_command("verify_audit", stdout=out)
    assert f"2026-11-24: BROKEN after 1 rows: row id {three[1].pk} (place 2): changed" in (
        out.getvalue()
    )


def test_a_forged_seal_is_found(three):
    """Someone with the database but without the key cannot make the chain whole again."""
    tamper(three[1], detail={"n": "forged"})
    row = AuditEntry.objects.values().get(pk=three[1].pk)
    content = audit_seal.canonical(row, actor_id=None)
    forged = audit_seal.chain(fresh(three[0]).seal, content).replace("a", "b")  # wrong key
    tamper(three[1], seal=forged)
    broken = audit_seal.verify_day(TUESDAY).broken
    assert broken is not None
    assert (broken.entry_id, broken.kind) == (three[1].pk, audit_seal.CHANGED)


def test_a_removed_row_is_found_as_a_gap(three):
    remove(three[1])
    broken = audit_seal.verify_day(TUESDAY).broken
    assert broken is not None
    assert (broken.entry_id, broken.seq, broken.kind) == (three[2].pk, 3, audit_seal.MISSING)
    assert "place 2 of the chain is missing" in broken.explanation


def test_reordered_rows_are_found(three):
    tamper(three[1], seal_seq=99)
    tamper(three[2], seal_seq=2)
    tamper(three[1], seal_seq=3)
    broken = audit_seal.verify_day(TUESDAY).broken
    assert broken is not None
    assert (broken.entry_id, broken.seq, broken.kind) == (three[2].pk, 2, audit_seal.REORDERED)


def test_an_actor_may_lose_their_account_but_not_be_replaced(db):
    user, other = factories.user("Guardian"), factories.user("Other")
    with at(TUESDAY, 8):
        first = audit_log(actor=user, action="test.thing.done")
        second = audit_log(actor=user, action="test.thing.done")
    seal()
    user_id = user.pk
    user.delete()  # actor_id becomes NULL, which the triggers allow
    assert fresh(first).actor_id is None
    assert fresh(first).sealed_actor_id == user_id
    assert audit_seal.verify_day(TUESDAY).broken is None
    tamper(second, actor_id=other.pk)
    broken = audit_seal.verify_day(TUESDAY).broken
    assert broken is not None
    assert (broken.entry_id, broken.kind) == (second.pk, audit_seal.CHANGED)


def test_unsealed_rows_older_than_an_hour_are_a_warning(db):
    write(TUESDAY, 8)
    with at(TUESDAY, 9, 30):
        out = verify()
    assert "warning: 1 rows older than an hour are not sealed" in out
    assert "0 days, 0 rows: every chain intact" in out


def test_verify_of_a_day_without_sealed_rows(db):
    out = verify("--day", "2026-11-24")
    assert "2026-11-24: no sealed rows" in out
    assert "0 days, 0 rows: every chain intact" in out


def test_verify_refuses_a_date_it_cannot_read(db):
    with pytest.raises(CommandError, match="Not a date"):
        verify("--day", "24.11.2026")


# The triggers


def _raw_update(entry: AuditEntry, assignments: str, params: list[object]) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET {assignments} WHERE id = %s",  # noqa: S608
            [*params, entry.pk],
        )


def test_the_database_allows_sealing_once_and_nothing_else(three, db):
    sealed = fresh(three[0])
    _raw_update(sealed, "action = %s", ["x.y"])
    _raw_update(sealed, "seal = %s", ["0" * 64])  # sealed again
    _raw_update(sealed, "seal_seq = %s", [7])
    _raw_update(sealed, "sealed_actor_id = %s", [1])
    if connection.vendor == "postgresql":  # on SQLite the model refuses DELETE
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [sealed.pk])  # noqa: S608
    assert fresh(sealed) == sealed
    assert fresh(sealed).seal == sealed.seal
    unsealed = write(TUESDAY, 11, 59)
    now = connection.ops.adapt_datetimefield_value(unsealed.created_at)
    day = connection.ops.adapt_datefield_value(TUESDAY)
    # Sealing together with a change of content, or with another actor, is refused.
    _raw_update(
        unsealed,
        "seal = %s, seal_day = %s, seal_seq = %s, sealed_at = %s, action = %s",
        ["a" * 64, day, 4, now, "x.y"],
    )
    _raw_update(
        unsealed,
        "seal = %s, seal_day = %s, seal_seq = %s, sealed_at = %s, sealed_actor_id = %s",
        ["a" * 64, day, 4, now, 1],
    )
    assert fresh(unsealed).seal == ""
    assert seal(hour=13) == 1
