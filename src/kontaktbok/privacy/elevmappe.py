"""The pupil's year-end document for the archive (elevmappe).

After a school year's last day, each pupil with attendance marks or a leave case in that
year at that school gets one document in the archive's pupil folder: the attendance and
absence of the year (the archive regulations § 7-28) with the year's leave decisions and
their letters. It goes through the archive app (``archive.services.deliver_document``) to
the school's archive unit, keyed by pupil and year, so a retry never files it twice. The
archive's receipt comes back through ``archive.signals.delivery_archived``; only then may
the retention run delete the year's marks and leave cases (``retention.RULES``). A school
without an archive unit keeps everything until it has one.
"""

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.absence.models import AttendanceMark
from kontaktbok.absence.selectors import history_for_a_document
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.leave.models import Decision, LeaveApplication
from kontaktbok.privacy.models import YearRecord
from kontaktbok.schools.models import Pupil, SchoolYear

log = logging.getLogger(__name__)
SOURCE = "elevmappe"
# Pupils handed over per run (each a PDF of a second or less): a large municipality's
# year goes over a few nights in the summer, long before anything of it is due.
PER_RUN = 500


def archived_for(pupil: str, school: str, day: str) -> Exists:
    """The archive's receipt is stored for the year-end document of the row's pupil and
    the school year (of the row's school) its day falls in: the retention rules' test."""
    return Exists(
        YearRecord.objects.filter(
            pupil=OuterRef(pupil),
            archived_at__isnull=False,
            school_year__school=OuterRef(school),
            school_year__starts_on__lte=OuterRef(day),
            school_year__ends_on__gte=OuterRef(day),
        )
    )


def _pupils_of_year(year: SchoolYear) -> QuerySet:
    marked = AttendanceMark.objects.filter(
        group__school_id=year.school_id, date__range=(year.starts_on, year.ends_on)
    ).values("pupil_id")
    applied = LeaveApplication.objects.filter(
        school_id=year.school_id, end_date__range=(year.starts_on, year.ends_on)
    ).values("pupil_id")
    done = YearRecord.objects.filter(school_year=year).values("pupil_id")
    return (
        Pupil.objects.filter(pk__in=marked.union(applied))
        .exclude(pk__in=done)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def pupil_years_due(today: dt.date, limit: int = PER_RUN) -> list[tuple[int, int]]:
    """(pupil, school year) whose year is over and whose document is not handed over yet,
    at schools with an archive unit."""
    from kontaktbok.archive.selectors import pupil_folder_school_ids

    years = SchoolYear.objects.filter(
        ends_on__lt=today, school_id__in=pupil_folder_school_ids()
    ).order_by("starts_on", "pk")
    found: list[tuple[int, int]] = []
    for year in years:
        found += [(pk, year.pk) for pk in _pupils_of_year(year)[: limit - len(found)]]
        if len(found) >= limit:
            break
    return found


def _decisions(pupil: Pupil, year: SchoolYear) -> list[Decision]:
    return list(
        Decision.objects.filter(
            application__pupil=pupil,
            application__school_id=year.school_id,
            application__end_date__range=(year.starts_on, year.ends_on),
        )
        .select_related(
            "application__pupil", "application__school__municipality", "application__applicant"
        )
        .order_by("decided_at", "pk")
    )


def render_pdf(pupil: Pupil, year: SchoolYear, decisions: list[Decision]) -> bytes:
    """The year's attendance and absence and its leave decisions, as PDF/A."""
    from weasyprint import HTML  # imported late: it loads pango at import time

    pupil.school = year.school  # the year's school: its calendar and lesson times
    history = history_for_a_document(pupil, year)
    with translation.override(year.school.language or "nn"):
        html = render_to_string(
            "privacy/year_record_pdf.html",
            {
                "pupil": pupil,
                "year": year,
                "history": history,
                "reports": sorted(history.reports, key=lambda r: (r.start_date, r.pk)),
                "absences": sorted(history.absences, key=lambda m: (m.date, m.lesson or 0)),
                "decisions": decisions,
            },
        )
    return bytes(HTML(string=html).write_pdf(pdf_variant="pdf/a-2b"))


def title_for(pupil: Pupil, year: SchoolYear) -> str:
    with translation.override(year.school.language or "nn"):
        return _("Attendance and absence %(year)s, %(name)s") % {
            "year": year.name,
            "name": pupil.full_name,
        }


def year_record_deliver(*, pupil_id: int, school_year_id: int) -> YearRecord | None:
    """Hand the pupil's year-end document to the archive (once; the same call again
    returns the record). None while the school has no archive unit."""
    from kontaktbok.archive import services as archive
    from kontaktbok.archive.models import ArchiveDelivery
    from kontaktbok.archive.selectors import pupil_folder_unit
    from kontaktbok.leave.services.letters import decision_letter_make

    existing = YearRecord.objects.filter(pupil_id=pupil_id, school_year_id=school_year_id)
    record = existing.first()
    if record is not None:
        return record
    year = SchoolYear.objects.select_related("school__municipality").get(pk=school_year_id)
    unit = pupil_folder_unit(year.school_id)
    if unit is None:
        log.warning("the year-end documents of %s wait: no archive unit", year.school_id)
        return None
    pupil = Pupil.objects.get(pk=pupil_id)
    decisions = _decisions(pupil, year)
    title = title_for(pupil, year)
    documents = [
        archive.Document(
            title,
            f"elevmappe-{year.name}-{pupil.pk}.pdf",
            "application/pdf",
            render_pdf(pupil, year, decisions),
        )
    ]
    for number, decision in enumerate(decisions, start=1):
        with translation.override(year.school.language or "nn"):
            name = _("Leave decision %(day)s") % {
                "day": decision.decided_at.astimezone(clock.SCHOOL_TZ).date().isoformat()
            }
        documents.append(
            archive.Document(
                name,
                f"vedtak-{number}.pdf",
                "application/pdf",
                decision_letter_make(decision=decision),
            )
        )
    try:
        with transaction.atomic():
            delivery = archive.deliver_document(
                actor=None,
                unit=unit,
                external_key=f"{SOURCE}:{pupil.pk}:{year.pk}",
                title=title,
                sender=archive.Sender(
                    kind=ArchiveDelivery.SenderKind.ORGANISATION,
                    name=year.school.name,
                    identifier=year.school.org_number,
                ),
                documents=documents,
                document_date=clock.now(),
                source=SOURCE,
                confidential=True,  # one pupil's absence and leave (offl. § 13)
            )
            record = YearRecord.objects.create(
                pupil=pupil, school_year=year, delivery=delivery, created_at=clock.now()
            )
            audit_log(
                actor=None,
                action="privacy.year_record.handed",
                obj=record,
                school_id=year.school_id,
                detail={"pupil": pupil.pk, "year": year.name, "decisions": len(decisions)},
            )
    except IntegrityError:  # another worker handed it over at the same moment
        return existing.get()
    return record


def year_records_deliver(today: dt.date | None = None) -> int:
    """The nightly run: hand over the year-end documents that are due (a batch a run)."""
    handed = 0
    for pupil_id, year_id in pupil_years_due(today or clock.today()):
        if year_record_deliver(pupil_id=pupil_id, school_year_id=year_id) is not None:
            handed += 1
    return handed


def on_archived(sender: Any, delivery: Any, reference: str, **kwargs: Any) -> None:
    """The archive has filed a year-end document: from now the year's marks and leave
    cases may go when their time comes (same transaction as the receipt)."""
    if delivery.source != SOURCE:
        return
    records = YearRecord.objects.filter(delivery=delivery, archived_at__isnull=True)
    for record in records.select_for_update():
        record.archived_at = clock.now()
        record.reference = reference[:200]
        record.save(update_fields=["archived_at", "reference"])
        audit_log(
            actor=None,
            action="privacy.year_record.archived",
            obj=record,
            school_id=delivery.unit.school_id,
            detail={"pupil": record.pupil_id, "reference": record.reference},
        )
