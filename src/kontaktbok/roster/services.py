"""Importing a school's roster: read the file and show what would change (the preview),
then apply exactly that, all or nothing, audited as one import with its counts."""

import dataclasses
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.roster import csv_format, oneroster
from kontaktbok.roster.apply import execute
from kontaktbok.roster.models import RosterImport
from kontaktbok.roster.plan import make_plan
from kontaktbok.roster.records import Rejected, Roster
from kontaktbok.schools import access
from kontaktbok.schools.models import School, SchoolYear
from kontaktbok.schools.selectors import current_school_year

MAX_BYTES = 100 * 1024 * 1024
PREVIEW_KEPT = dt.timedelta(days=1)


def _require(actor: Any, school: School) -> None:
    """Kontor and the school admin import (``actor`` None: the nightly command, run by the
    operator on the server)."""
    if actor is not None and not access.keeps_people(actor, school.pk):
        raise PermissionDenied


def read_roster(data: bytes, school: School) -> Roster:
    """A OneRoster ZIP or kontaktbok's own CSV, told apart by the ZIP's first bytes."""
    if data[:4] == b"PK\x03\x04":
        return oneroster.read_zip(data, school_org_number=school.org_number)
    return csv_format.read(data)


def _year(school: School, today: dt.date) -> SchoolYear:
    year = current_school_year(school, today)
    if year is None:
        raise ValidationError(_("The school has no school year now: create the year first."))
    return year


def roster_check(
    *, school: School, data: bytes, today: dt.date | None = None
) -> tuple[dict[str, int], list[Rejected]]:
    """What a file would change, and the rows it would not take; nothing is written."""
    today = today or clock.today()
    plan = make_plan(school, _year(school, today), read_roster(data, school), today)
    return plan.counts(), plan.rejected


def roster_preview(
    *, actor: Any, school: School, file_name: str, data: bytes, today: dt.date | None = None
) -> RosterImport:
    """Read a roster file and keep what applying it would change; nothing of the school's
    people is written. Previews not applied within a day are dropped."""
    _require(actor, school)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 100 MB."))
    today = today or clock.today()
    roster = read_roster(data, school)
    plan = make_plan(school, _year(school, today), roster, today)
    with transaction.atomic():
        RosterImport.objects.filter(
            school=school,
            status=RosterImport.Status.PREVIEWED,
            created_at__lt=timezone.now() - PREVIEW_KEPT,
        ).delete()
        item = RosterImport.objects.create(
            school=school,
            file_name=file_name[:200],
            source=roster.source,
            created_by=actor,
            records=RosterImport.pack(roster),
            rejected=[dataclasses.asdict(r) for r in plan.rejected],
            counts={**plan.counts(), "rejected": len(plan.rejected)},
            details=dict(plan.names),
        )
        audit_log(
            actor=actor,
            action="roster.import.previewed",
            obj=item,
            school_id=school.pk,
            detail=item.counts,
        )
    return item


def roster_apply(*, actor: Any, roster_import: RosterImport, today: dt.date | None = None) -> bool:
    """Apply a previewed import, all or nothing. Returns False, with the preview brought
    up to date, if the school's people changed since the preview (nothing is applied);
    applying an import twice changes nothing the second time."""
    today = today or clock.today()
    with transaction.atomic():
        item = (
            RosterImport.objects.select_for_update()
            .select_related("school")
            .get(pk=roster_import.pk)
        )
        _require(actor, item.school)
        if item.status == RosterImport.Status.APPLIED:
            return True
        roster = item.roster()
        plan = make_plan(item.school, _year(item.school, today), roster, today)
        counts = {**plan.counts(), "rejected": len(plan.rejected)}
        if counts != item.counts:
            item.counts, item.details = counts, dict(plan.names)
            item.rejected = [dataclasses.asdict(r) for r in plan.rejected]
            item.save(update_fields=["counts", "details", "rejected"])
            return False
        execute(plan)
        item.status = RosterImport.Status.APPLIED
        item.applied_by = actor
        item.applied_at = timezone.now()
        item.records = b""  # the records are in the school's tables now
        item.save(update_fields=["status", "applied_by", "applied_at", "records"])
        audit_log(
            actor=actor,
            action="roster.import.applied",
            obj=item,
            school_id=item.school_id,
            detail=counts,
        )
    roster_import.refresh_from_db()
    return True
