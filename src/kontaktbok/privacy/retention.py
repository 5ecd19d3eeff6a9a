"""How long each kind of record is kept, and the daily run that deletes what is due.

The rules are data (``RULES``): what kind of record, how long, from which event, whether the
archive must have it first, and on what basis. The rule of the house: a record the archive
law requires is never deleted before the archive's receipt for it is stored. Until the
archive delivery exists (the archive app), such records are counted as held, never
deleted. Deletion goes in small batches, each in its own short transaction, so no table is
locked for long; each run is audited with its counts and no personal data.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kontaktbok.absence.models import AbsenceReport, AttendanceMark, LookupCase
from kontaktbok.accounts.models import Invitation
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.leave.models import LeaveApplication
from kontaktbok.messaging.models import Attachment, AttachmentContent, Message, Thread
from kontaktbok.notifications.models import Notification, SinkMessage
from kontaktbok.schools.models import SchoolYear

BATCH = 1000


def _year_begun_since(school: str, day: str, today: dt.date, days: int) -> Exists:
    """A later school year of the record's school began at least ``days`` days ago: the
    record's own school year is over (and ``days`` more have passed)."""
    return Exists(
        SchoolYear.objects.filter(
            school=OuterRef(school),
            starts_on__gt=OuterRef(day),
            starts_on__lte=today - dt.timedelta(days=days),
        )
    )


def _before(field: str, today: dt.date, days: int) -> dict[str, Any]:
    moment = clock.at(today - dt.timedelta(days=days), dt.time(0))
    return {f"{field}__lt": moment}


def _delete_threads(ids: list[int]) -> None:
    """A thread goes with its messages and their attachments (kept apart on purpose)."""
    messages = Message.objects.filter(thread_id__in=ids)
    attachments = Attachment.objects.filter(message__in=messages)
    AttachmentContent.objects.filter(attachment__in=attachments).delete()
    attachments.delete()
    messages.delete()
    Thread.objects.filter(pk__in=ids).delete()


def _attendance_due(today: dt.date) -> QuerySet:
    return AttendanceMark.objects.filter(_year_begun_since("group__school", "date", today, 365))


def _leave_due(today: dt.date) -> QuerySet:
    return LeaveApplication.objects.filter(_year_begun_since("school", "end_date", today, 0))


def _lookups_due(today: dt.date) -> QuerySet:
    return LookupCase.objects.filter(_year_begun_since("school", "date", today, 0))


@dataclass(frozen=True)
class Rule:
    code: str
    kind: Promise
    kept: Promise  # how long, from which event
    archive: Promise  # what the archive gets
    basis: Promise
    due: Callable[[dt.date], QuerySet]  # the rows past their time on a day
    # Due rows the archive must have first: held until its receipt is stored.
    held: Callable[[dt.date], QuerySet] | None = None
    delete: Callable[[list[int]], Any] | None = None  # default: the model's delete

    def remove(self, ids: list[int]) -> None:
        if self.delete is not None:
            self.delete(ids)
        else:
            self.due(clock.today()).model.objects.filter(pk__in=ids).delete()


RULES: tuple[Rule, ...] = (
    Rule(
        code="attendance",
        kind=_("Attendance and absence registered by the school"),
        kept=_("the school year and one more"),
        archive=_("yes: each pupil's attendance and absence per school year (elevmappe)"),
        basis=_("The archive regulations § 7-28; the education act (absence on the report)."),
        due=_attendance_due,
        held=_attendance_due,  # all of it: the archive's yearly extract comes first
    ),
    Rule(
        code="absence_reports",
        kind=_("Guardians' absence reports with the reason"),
        kept=_("until the school year is over"),
        archive=_("no (the registered absence is archived)"),
        basis=_("Needed only to follow up the absence this school year."),
        due=lambda today: AbsenceReport.objects.filter(
            _year_begun_since("school", "end_date", today, 0)
        ),
    ),
    Rule(
        code="lookup_cases",
        kind=_("Missing-pupil lookups (etterlysing)"),
        kept=_("until the school year is over"),
        archive=_("only an escalated case, as a case document"),
        basis=_("The school's duty of care; an escalated case is part of the pupil's file."),
        due=_lookups_due,
        held=lambda today: _lookups_due(today).filter(escalated_at__isnull=False),
    ),
    Rule(
        code="leave",
        kind=_("Leave applications, decisions, appeals and letters"),
        kept=_("until the archive has them and the appeal period is over"),
        archive=_("yes: a case on the pupil's rights and duties"),
        basis=_("The archive regulations § 7-28; the public administration act."),
        due=_leave_due,
        held=_leave_due,  # all of it: the archive has each case first
    ),
    Rule(
        code="messages",
        kind=_("Messages and their attachments"),
        kept=_("the school year of the last message and one more"),
        archive=_("only threads the school files in the archive"),
        basis=_("Contact between home and school; not a case record."),
        due=lambda today: Thread.objects.filter(
            _year_begun_since("school", "last_message_at__date", today, 365)
        ),
        delete=_delete_threads,
    ),
    Rule(
        code="notifications",
        kind=_("Notifications and their deliveries (e-mail, SMS, push)"),
        kept=_("90 days"),
        archive=_("no"),
        basis=_("Needed only to deliver and to answer questions about a delivery."),
        due=lambda today: Notification.objects.filter(**_before("created_at", today, 90)),
    ),
    Rule(
        code="sink",
        kind=_("Copies kept by the test mail and SMS sink"),
        kept=_("30 days"),
        archive=_("no"),
        basis=_("Only for testing a school's set-up."),
        due=lambda today: SinkMessage.objects.filter(**_before("created_at", today, 30)),
    ),
    Rule(
        code="invitations",
        kind=_("Invitation links"),
        kept=_("30 days after they stop working"),
        archive=_("no"),
        basis=_("Needed only while the link works."),
        due=lambda today: Invitation.objects.filter(**_before("expires_at", today, 30)),
    ),
)


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    due: int
    held: int
    deleted: int


def _ids(queryset: QuerySet, limit: int) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])


def run(today: dt.date | None = None, *, dry_run: bool = False) -> list[Outcome]:
    """Delete what is due today, rule by rule, in batches; the archive's records wait for
    its receipt. ``dry_run`` only counts. Audited as one entry with the counts."""
    today = today or clock.today()
    outcomes = []
    for rule in RULES:
        due = rule.due(today)
        held = rule.held(today) if rule.held else due.none()
        # NOT EXISTS, not NOT IN (subquery): PostgreSQL keeps a NOT IN list too large for
        # work_mem as a plain list and scans it for every row (hours on millions of marks).
        deletable = due.exclude(Exists(held.filter(pk=OuterRef("pk")))) if rule.held else due
        due_count, held_count = due.count(), held.count()
        deleted = 0
        while not dry_run:
            with transaction.atomic():
                batch = _ids(deletable, BATCH)
                if not batch:
                    break
                rule.remove(batch)
            deleted += len(batch)
        outcomes.append(Outcome(rule, due_count, held_count, deleted))
    if not dry_run:
        audit_log(
            actor=None,
            action="privacy.retention.run",
            detail={o.rule.code: {"deleted": o.deleted, "held": o.held} for o in outcomes},
        )
    return outcomes
