"""The relay log in the JSON API, scoped exactly like the pages: only its participants
reach a log; anyone else gets 404. Every read is audited."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from kontaktbok.core.api import ERRORS, scoped
from kontaktbok.relaylog import access, selectors, services

router = Router(tags=["relaylog"])


class LogOut(Schema):
    id: int
    pupil_first_name: str
    level: int = Field(description="BTI level 0–3")
    state: str = Field(description="draft, active or closed")
    is_holder: bool


class EntryOut(Schema):
    id: int
    author_name: str
    author_role: str
    body: str
    corrects_id: int | None
    created_at: dt.datetime


class LogDetailOut(LogOut):
    concern: str
    decide_by: dt.date | None
    entries: list[EntryOut]


class EntryIn(Schema):
    body: str = Field(max_length=20_000)
    corrects_id: int | None = None


def _log_out(log: Any, actor: Any) -> dict[str, Any]:
    return {
        "id": log.pk,
        "pupil_first_name": log.pupil.first_name,
        "level": log.level,
        "state": log.state,
        "is_holder": access.is_holder(actor, log),
    }


@router.get("/", response={200: list[LogOut], **ERRORS})
def relaylog_list(request: HttpRequest) -> Any:
    """The relay logs the caller takes part in and may read now."""
    return Status(
        200,
        [LogOut(**_log_out(log, request.user)) for log, _p in access.readable_logs(request.user)],
    )


@router.get("/{log_id}", response={200: LogDetailOut, **ERRORS})
def relaylog_detail(request: HttpRequest, log_id: int) -> Any:
    """One log with its entries (a participant only; the read is audited)."""
    page = selectors.log_page(request.user, log_id)
    log = page["log"]
    services.record_reads(
        actor=request.user, log=log, participant=page["me"], entries=page["entries"]
    )
    return Status(
        200,
        LogDetailOut(
            **_log_out(log, request.user),
            concern=log.concern,
            decide_by=log.decide_by,
            entries=[
                EntryOut(
                    id=e.pk,
                    author_name=e.author_name,
                    author_role=e.author_role,
                    body=e.body,
                    corrects_id=e.corrects_id,
                    created_at=e.created_at,
                )
                for e in page["entries"]
            ],
        ),
    )


@router.post("/{log_id}/entries", response={201: EntryOut, **ERRORS})
@scoped
def relaylog_entry_add(request: HttpRequest, log_id: int, payload: EntryIn) -> Any:
    """A new entry (append-only; a correction names the entry it corrects)."""
    entry = services.entry_add(
        actor=request.user, log_id=log_id, body=payload.body, corrects_id=payload.corrects_id
    )
    return Status(
        201,
        EntryOut(
            id=entry.pk,
            author_name=entry.author_name,
            author_role=entry.author_role,
            body=entry.body,
            corrects_id=entry.corrects_id,
            created_at=entry.created_at,
        ),
    )
