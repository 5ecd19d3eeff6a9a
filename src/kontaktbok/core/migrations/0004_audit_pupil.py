"""Each audit entry names the pupil it is about, for "who has seen my child's data".

Entries about a pupil page written before are given their pupil; then the append-only
triggers are made again to cover the new column too."""

from django.conf import settings
from django.db import migrations, models

BACKFILL = """UPDATE core_auditentry SET pupil_id = CAST(object_id AS BIGINT)
    WHERE object_type = 'schools.pupil' AND object_id <> '' AND pupil_id IS NULL"""
COLUMNS = "action, actor_name, role, school_id, object_type, object_id, {}detail, created_at"


def _triggers(columns: str) -> dict[str, list[str]]:
    return {
        "sqlite": [
            "DROP TRIGGER IF EXISTS core_auditentry_no_update",
            f"""CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE OF {columns}
               ON core_auditentry BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ],
        "postgresql": [
            "DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry",
            f"""CREATE TRIGGER core_auditentry_append_only BEFORE DELETE OR UPDATE OF
               {columns} ON core_auditentry
               FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()""",
        ],
    }


def _forward(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    for statement in _triggers(COLUMNS.format("pupil_id, ")).get(
        schema_editor.connection.vendor, []
    ):
        schema_editor.execute(statement)


def _backward(apps, schema_editor):
    for statement in _triggers(COLUMNS.format("")).get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_periodic_run"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="pupil_id",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="pupil"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["pupil_id", "-created_at"], name="core_audit_pupil_time"),
        ),
        migrations.RunPython(_forward, _backward),
    ]
