"""The privacy app's scheduled work."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.privacy import retention


@periodic(every_minutes=24 * 60)  # once a day, at midnight UTC (night in Norway)
@task
def retention_run() -> dict[str, int]:
    """Delete what the retention rules say is due today; returns the counts per rule."""
    return {o.rule.code: o.deleted for o in retention.run()}
