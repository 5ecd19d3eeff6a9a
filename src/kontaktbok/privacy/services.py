"""Every write about a person's copy of their data (GDPR Art. 15): asking for it, the
worker that builds it, downloading it, and deleting it after its week."""

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from kontaktbok.accounts.models import User
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.messaging import files as crypto
from kontaktbok.notifications.channels import language_of
from kontaktbok.notifications.services import notify
from kontaktbok.privacy import build, kinds, selectors
from kontaktbok.privacy.collect import collect
from kontaktbok.privacy.models import OFFERED_FOR, DataExport, DataExportFile
from kontaktbok.schools.models import Pupil

log = logging.getLogger(__name__)

Status = DataExport.Status
# A request still queued this long after it was asked for or last started is built again;
# after this many starts it has failed.
STALE_AFTER = dt.timedelta(minutes=30)
MAX_ATTEMPTS = 3


class ExportGone(Exception):
    """The copy was offered for seven days; that week is over."""


def _key_name(export: DataExport) -> str:
    return f"privacy-export:{export.uuid}"


def _tasks() -> Any:
    from kontaktbok.privacy import tasks

    return tasks


def export_request(*, actor: User | AnonymousUser) -> tuple[DataExport, bool]:
    """Ask for a copy of everything kontaktbok stores about oneself and one's children.
    One request is built at a time: asking again while one is queued returns that one
    (``False``: not new). A worker builds it, queued in this transaction."""
    if not isinstance(actor, User) or not actor.is_authenticated:
        raise PermissionDenied
    try:
        with transaction.atomic():
            running = (
                DataExport.objects.select_for_update()
                .filter(person=actor, status=Status.QUEUED)
                .first()
            )
            if running is not None:
                return running, False
            export = DataExport.objects.create(
                person=actor,
                status=Status.QUEUED,
                language=language_of(actor),
                requested_at=clock.now(),
                queued_at=clock.now(),
            )
            audit_log(actor=actor, action="privacy.export.requested", obj=export)
            _tasks().build_export.enqueue(export_id=export.pk)
            return export, True
    except IntegrityError:
        # Asked twice at the same moment: the other request won.
        return DataExport.objects.get(person=actor, status=Status.QUEUED), False


def _claim(export_id: int) -> DataExport | None:
    """Take a queued request for building (counting the attempt); None if it is built
    already or has failed."""
    claimed = DataExport.objects.filter(pk=export_id, status=Status.QUEUED).update(
        attempts=F("attempts") + 1, queued_at=clock.now()
    )
    if not claimed:
        return None
    return DataExport.objects.select_related("person").get(pk=export_id)


def export_build(*, export_id: int) -> DataExport | None:
    """The worker: collect the person's data as they may see it now, pack and encrypt the
    ZIP, offer it for seven days and tell the person. Reading and packing happen outside
    any transaction; the result is stored, audited and announced in one."""
    export = _claim(export_id)
    if export is None:
        return None
    person = export.person
    try:
        collected = collect(person, language=export.language)
        content = build.package(collected, person=person, language=export.language)
    except Exception:
        log.exception("the data export %s could not be built", export_id)
        _fail(export)
        return export
    pupil_ids = [child["id"] for child in collected.data["children"]]
    with transaction.atomic():
        locked = DataExport.objects.select_for_update().get(pk=export.pk)
        if locked.status != Status.QUEUED:
            return locked  # another worker finished it meanwhile
        locked.person = person
        now = clock.now()
        locked.status = Status.READY
        locked.ready_at = now
        locked.expires_at = now + OFFERED_FOR
        locked.size = len(content)
        locked.save(update_fields=["status", "ready_at", "expires_at", "size"])
        DataExportFile.objects.create(
            export=locked, ciphertext=crypto.encrypt(content, name=_key_name(locked))
        )
        _audit_ready(locked, pupil_ids, files=len(collected.files))
        _tell(locked)
    return locked


def _audit_ready(export: DataExport, pupil_ids: list[int], *, files: int) -> None:
    """The copy, and for each child in it an entry on the child's own record."""
    person = export.person
    pupils = Pupil.objects.filter(pk__in=pupil_ids).only("pk", "school_id")
    audit_log_many(
        {
            "actor": None,
            "action": "privacy.export.ready",
            "obj": export,
            "detail": {
                "person": person.pk,
                "size": export.size,
                "files": files,
                "pupils": pupil_ids,
            },
        },
        *(
            {
                "actor": person,
                "action": "privacy.export.pupil_included",
                "obj": pupil,
                "role": "guardian",
                "school_id": pupil.school_id,
                "detail": {"export": export.pk},
            }
            for pupil in pupils
        ),
    )


def _tell(export: DataExport) -> None:
    expires = export.expires_at or clock.now()
    notify(
        recipient=export.person,
        kind=kinds.EXPORT_READY.code,
        dedup_key=f"privacy.export:{export.pk}",
        payload={"expires": date_format(timezone.localtime(expires, clock.SCHOOL_TZ), "j.n.Y")},
        url=reverse("privacy_home"),
    )


def _fail(export: DataExport) -> None:
    with transaction.atomic():
        if DataExport.objects.filter(pk=export.pk, status=Status.QUEUED).update(
            status=Status.FAILED
        ):
            audit_log(actor=None, action="privacy.export.failed", obj=export)


def export_download(*, actor: User | AnonymousUser, export_id: int) -> tuple[DataExport, bytes]:
    """The decrypted ZIP, for its owner only (404 for anyone else), while it is offered;
    ``ExportGone`` after its week. Every download is audited."""
    export = selectors.get_my_export(actor=actor, export_id=export_id)
    if export.status != Status.READY:
        raise Http404
    if export.deleted_at is not None or (export.expires_at and export.expires_at <= clock.now()):
        raise ExportGone
    blob = DataExportFile.objects.filter(export=export).values_list("ciphertext", flat=True)
    ciphertext = blob.first()
    if ciphertext is None:
        raise ExportGone
    content = crypto.decrypt(bytes(ciphertext), name=_key_name(export))
    with transaction.atomic():
        now = clock.now()
        DataExport.objects.filter(pk=export.pk).update(downloaded_at=now)
        export.downloaded_at = now
        audit_log(
            actor=actor,
            action="privacy.export.downloaded",
            obj=export,
            detail={"size": len(content)},
        )
    return export, content


def exports_delete_expired() -> int:
    """Delete the files of copies whose week is over (the request stays, as its record);
    returns how many."""
    now = clock.now()
    due = list(
        DataExport.objects.filter(
            status=Status.READY, deleted_at__isnull=True, expires_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
    deleted = 0
    for export_id in due:
        with transaction.atomic():
            export = (
                DataExport.objects.select_for_update()
                .filter(pk=export_id, deleted_at__isnull=True)
                .first()
            )
            if export is None:
                continue
            DataExportFile.objects.filter(export=export).delete()
            export.deleted_at = now
            export.save(update_fields=["deleted_at"])
            audit_log(actor=None, action="privacy.export.deleted", obj=export)
            deleted += 1
    return deleted


def exports_build_stale() -> int:
    """Requests a worker never took or left unfinished are queued again; after
    ``MAX_ATTEMPTS`` starts they have failed. Returns how many were queued again."""
    now = clock.now()
    stale = DataExport.objects.filter(status=Status.QUEUED, queued_at__lte=now - STALE_AFTER)
    for export in stale.filter(attempts__gte=MAX_ATTEMPTS):
        _fail(export)
    again = list(stale.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:100])
    for export_id in again:
        with transaction.atomic():
            if DataExport.objects.filter(
                pk=export_id, status=Status.QUEUED, queued_at__lte=now - STALE_AFTER
            ).update(queued_at=now):
                _tasks().build_export.enqueue(export_id=export_id)
    return len(again)
