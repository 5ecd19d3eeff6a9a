"""The audit log is sealed: each row gets, once, its place in a keyed hash chain per school
day (``kontaktbok/core/audit_seal.py``).

The triggers are made again. An UPDATE is let through in two cases only, and nothing else
in it may change: the seal columns are set on a row that has none yet (the actor as sealed
must be the row's actor), or ``actor_id`` becomes NULL because the account was deleted.
Every other UPDATE, and on PostgreSQL every DELETE, is refused. (On SQLite the model
refuses DELETE, since Django's test flush deletes rows.)

Retention (to come) will delete whole sealed days older than the retention period through
one explicit path that the PostgreSQL trigger lets through (e.g. a transaction-local
setting it checks), recording each deleted day's last seal; nothing else may delete.
"""

from django.conf import settings
from django.db import migrations, models

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
SEAL = ("seal", "seal_day", "seal_seq", "sealed_at", "sealed_actor_id")


def _allowed(same: str) -> str:
    """The condition under which an UPDATE may pass; ``same`` is the vendor's null-safe
    equality (``IS`` on SQLite, ``IS NOT DISTINCT FROM`` on PostgreSQL)."""
    content_kept = " AND ".join(f"NEW.{c} {same} OLD.{c}" for c in CONTENT)
    seal_kept = " AND ".join(f"NEW.{c} {same} OLD.{c}" for c in SEAL)
    unsealed = "OLD.seal = '' AND " + " AND ".join(f"OLD.{c} IS NULL" for c in SEAL[1:])
    sealing = (
        f"{unsealed} AND NEW.seal <> '' AND NEW.seal_day IS NOT NULL"
        " AND NEW.seal_seq IS NOT NULL AND NEW.sealed_at IS NOT NULL"
        f" AND NEW.actor_id {same} OLD.actor_id AND NEW.sealed_actor_id {same} OLD.actor_id"
    )
    unlinking = f"NEW.actor_id IS NULL AND {seal_kept}"
    return f"({content_kept}) AND (({sealing}) OR ({unlinking}))"


SQLITE = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update",
    f"""CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
        WHEN ({_allowed("IS")}) IS NOT 1
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
POSTGRESQL = [
    "DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry",
    f"""CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN
            IF {_allowed("IS NOT DISTINCT FROM")} THEN RETURN NEW; END IF;
          END IF;
          RAISE EXCEPTION 'the audit log is append-only';
        END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
       FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS core_auditentry_no_update"]
POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry"]

# The triggers of 0004, made again when this migration is reversed.
PREVIOUS_COLUMNS = (
    "action, actor_name, role, school_id, object_type, object_id, pupil_id, detail, created_at"
)
SQLITE_PREVIOUS = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update",
    f"""CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE OF {PREVIOUS_COLUMNS}
        ON core_auditentry BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
POSTGRESQL_PREVIOUS = [
    "DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry",
    """CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER core_auditentry_append_only BEFORE DELETE OR UPDATE OF
        {PREVIOUS_COLUMNS} ON core_auditentry
        FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()""",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_audit_pupil"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Reversed last: after the columns are gone (SQLite rebuilds the table without
        # its triggers), the triggers of 0004 are made again.
        migrations.RunPython(
            migrations.RunPython.noop,
            _run({"sqlite": SQLITE_PREVIOUS, "postgresql": POSTGRESQL_PREVIOUS}),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seal",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="seal"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seal_day",
            field=models.DateField(blank=True, null=True, verbose_name="sealed in the chain of"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seal_seq",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="place in the chain"
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="sealed_actor_id",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="actor (as sealed)"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="sealed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sealed at"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("seal", "")),
                fields=["created_at", "id"],
                name="core_audit_unsealed",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                fields=("seal_day", "seal_seq"), name="core_audit_chain_place"
            ),
        ),
        # Made last: on SQLite adding ``seal`` rebuilt the table without its triggers.
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
