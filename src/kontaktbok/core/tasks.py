"""Periodic housekeeping."""

from django.core.management import call_command
from django.tasks import task

from kontaktbok.core import audit_seal
from kontaktbok.core.scheduler import periodic


@periodic(every_minutes=60)
@task
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@periodic(every_minutes=1)
@task
def seal_audit_log() -> int:
    """Seal the audit rows written since the last run into their day's hash chain
    (``core/audit_seal.py``); returns how many."""
    return audit_seal.seal_pending()
