"""Retention may delete old audit entries, through one explicit path only.

On PostgreSQL the trigger lets a DELETE through when the transaction has set
``kontaktbok.audit_retention`` to ``on`` (``SET LOCAL``, as ``privacy.retention`` does) and
the row is more than 365 days old by the database's own clock: nothing younger can be
deleted, whatever the application asks. Every UPDATE stays as 0005 allows it. On SQLite the
model refuses DELETE; retention deletes with its own SQL statement.
"""

from importlib import import_module

from django.db import migrations

seal = import_module("kontaktbok.core.migrations.0005_audit_seal")

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN
            IF {seal._allowed("IS NOT DISTINCT FROM")} THEN RETURN NEW; END IF;
          END IF;
          IF TG_OP = 'DELETE'
             AND current_setting('kontaktbok.audit_retention', true) = 'on'
             AND OLD.created_at < now() - interval '365 days' THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'the audit log is append-only';
        END; $$ LANGUAGE plpgsql""",
]


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_seal")]

    operations = [
        migrations.RunPython(
            seal._run({"postgresql": POSTGRESQL}),
            seal._run({"postgresql": seal.POSTGRESQL[1:2]}),
        ),
    ]
