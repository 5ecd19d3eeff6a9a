"""The school's daily housekeeping."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.schools import services


@periodic(every_minutes=60)
@task
def end_due_guardianships() -> int:
    """Guardianships past the last day kontor gave them go (hourly, so a day is never
    missed)."""
    return services.end_due_guardianships()


@periodic(every_minutes=60)
@task
def remove_left_pupils() -> int:
    """Pupils past the last day kontor gave them leave their groups (hourly)."""
    return services.remove_left_pupils()
