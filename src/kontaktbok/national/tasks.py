"""Housekeeping of national login sessions."""

from django.tasks import task

from kontaktbok.core.scheduler import periodic
from kontaktbok.national import services


@periodic(every_minutes=60)
@task
def forget_ended_sessions() -> int:
    """Rows of local sessions that ended without a logout (expired, or idle) go."""
    return services.ended_sessions_forget()
