"""Reads of the audit log."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry


def audit_entries(
    *,
    school_ids: Iterable[int],
    action: str = "",
    actor_text: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries of the given schools only, newest first, filtered as asked."""
    entries = AuditEntry.objects.filter(school_id__in=list(school_ids))
    if action:
        entries = entries.filter(action__startswith=action)
    if actor_text:
        entries = entries.filter(
            Q(actor_name__icontains=actor_text) | Q(actor__email__iexact=actor_text)
        )
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if date_from:
        entries = entries.filter(created_at__gte=clock.at(date_from, dt.time.min))
    if date_to:
        entries = entries.filter(
            created_at__lt=clock.at(date_to + dt.timedelta(days=1), dt.time.min)
        )
    return entries.order_by("-created_at", "-id")
