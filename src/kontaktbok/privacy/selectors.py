"""Reads of a person's own requests for a copy of their data: nobody sees another's."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kontaktbok.core import clock
from kontaktbok.privacy.models import DataExport


def my_exports(*, actor: Any) -> QuerySet[DataExport]:
    """The actor's requests, newest first."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return DataExport.objects.none()
    return DataExport.objects.filter(person=actor).order_by("-requested_at", "-id")


def get_my_export(*, actor: Any, export_id: int) -> DataExport:
    """One of the actor's own requests, or 404."""
    found = my_exports(actor=actor).filter(pk=export_id).first()
    if found is None:
        raise Http404
    return found


def has_queued(*, actor: Any) -> bool:
    return my_exports(actor=actor).filter(status=DataExport.Status.QUEUED).exists()


@dataclass(frozen=True)
class ExportRow:
    export: DataExport
    offered: bool  # ready, and its week not over: it can be downloaded
    expired: bool  # ready once, its week over


def export_rows(*, actor: Any, limit: int = 20) -> list[ExportRow]:
    """The actor's latest requests with whether each can be downloaded now."""
    now = clock.now()
    rows = []
    for export in my_exports(actor=actor)[:limit]:
        ready = export.status == DataExport.Status.READY
        over = export.deleted_at is not None or (
            export.expires_at is not None and export.expires_at <= now
        )
        rows.append(ExportRow(export=export, offered=ready and not over, expired=ready and over))
    return rows
