"""Periodic housekeeping."""

from django.core.management import call_command
from django.tasks import task

from kontaktbok.core.scheduler import periodic


@periodic(every_minutes=60)
@task
def clear_expired_sessions() -> None:
    call_command("clearsessions")
