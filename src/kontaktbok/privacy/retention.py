"""How long each kind of record is kept, and the daily run that deletes what is due.

The rules are data (``RULES``): what kind of record, how long, from which event, whether the
archive must have it first, and on what basis. Where a rule counts days, the municipality
may choose another number within the rule's legal bounds (``retention_choose``). The rule
of the house: a record the archive law requires is never deleted before the archive's
receipt for it is stored (the pupil's year-end document, ``elevmappe``; a relay log's own
delivery on closing); until then they are counted as held, never deleted, and so are the
records of a pupil under a legal hold.
Deletion goes in small batches, each in its own short transaction, so no table is locked
for long; each run is audited with its counts and no personal data.
"""

import datetime as dt
import functools
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from kontaktbok.absence.models import AbsenceReport, AttendanceMark, LookupCase
from kontaktbok.accounts.models import Invitation
from kontaktbok.archive import services as archive_services
from kontaktbok.archive.models import ArchiveDelivery
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.core.models import AuditEntry
from kontaktbok.leave.models import LeaveApplication
from kontaktbok.messaging.models import Attachment, AttachmentContent, Message, Thread
from kontaktbok.notifications.models import Notification, SinkMessage
from kontaktbok.privacy.elevmappe import archived_for
from kontaktbok.privacy.models import LegalHold, RetentionChoice
from kontaktbok.relaylog import closing as relaylog_closing
from kontaktbok.relaylog.models import JoinLink, RelayLog
from kontaktbok.schools.models import SchoolYear
from kontaktbok.submissions import services as submission_services
from kontaktbok.submissions.models import Submission

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


def _delete_audit_entries(ids: list[int]) -> None:
    """The audit log refuses every change (model and database trigger) but this one: rows
    older than the shortest time a municipality may choose, by this transaction only.
    Whole days go (``_audit_due``), so each remaining day's seal chain still verifies."""
    oldest_kept = clock.now() - dt.timedelta(days=AUDIT_MINIMUM_DAYS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL kontaktbok.audit_retention = 'on'")
            cursor.execute(
                "DELETE FROM core_auditentry WHERE id = ANY(%s) AND created_at < %s",
                [ids, oldest_kept],
            )
        else:
            cursor.execute(
                "DELETE FROM core_auditentry WHERE id IN (SELECT value FROM json_each(%s))"
                " AND created_at < %s",
                [json.dumps(ids), oldest_kept],
            )


def _audit_due(today: dt.date, days: int) -> QuerySet:
    """Entries of the days that ended ``days`` or more days ago (whole days: the seal
    chains are per day)."""
    return AuditEntry.objects.filter(**_before("created_at", today, days))


def _attendance_due(today: dt.date, days: int = 365) -> QuerySet:
    return AttendanceMark.objects.filter(_year_begun_since("group__school", "date", today, days))


def _attendance_held(today: dt.date, days: int) -> QuerySet:
    """Marks of a pupil's year whose year-end document the archive has not yet receipted."""
    return _attendance_due(today, days).exclude(archived_for("pupil", "group__school", "date"))


def _leave_due(today: dt.date, days: int = 0) -> QuerySet:
    return LeaveApplication.objects.filter(_year_begun_since("school", "end_date", today, 0))


def _leave_held(today: dt.date, days: int) -> QuerySet:
    """Cases of a pupil's year whose year-end document (with the decisions and their
    letters) the archive has not yet receipted."""
    return _leave_due(today).exclude(archived_for("pupil", "school", "end_date"))


def _relay_logs_due(today: dt.date, days: int) -> QuerySet:
    return RelayLog.objects.filter(state=RelayLog.State.CLOSED, **_before("closed_at", today, days))


def _relay_logs_held(today: dt.date, days: int) -> QuerySet:
    """Closed logs whose archive receipt is not stored, or not ``days`` old."""
    received = Q(archive_state=RelayLog.Archive.RECEIVED) & Q(
        **_before("archive_received_at", today, days)
    )
    return _relay_logs_due(today, days).exclude(received)


def _lookups_due(today: dt.date, days: int = 0) -> QuerySet:
    return LookupCase.objects.filter(_year_begun_since("school", "date", today, 0))


def _receipted(today: dt.date, days: int, path: str = "") -> Q:
    """The archive's receipt for the delivery (at ``path``) is stored and ``days`` old."""
    return Q(**{f"{path}state": ArchiveDelivery.State.ARCHIVED}) & Q(
        **_before(f"{path}archived_at", today, days)
    )


def _delivered_due(today: dt.date, days: int) -> QuerySet:
    return ArchiveDelivery.objects.filter(
        content_deleted_at__isnull=True, **_before("created_at", today, days)
    )


def _submissions_due(today: dt.date, days: int) -> QuerySet:
    return Submission.objects.filter(**_before("created_at", today, days))


# The audit log is kept at least this long, whatever is chosen (the database enforces it).
AUDIT_MINIMUM_DAYS = 365


@dataclass(frozen=True)
class Rule:
    code: str
    kind: Promise
    kept: Promise  # how long, from which event; "%(days)s" where the days may be chosen
    archive: Promise  # what the archive gets
    basis: Promise
    due: Callable[[dt.date, int], QuerySet]  # the rows past their time on a day
    # Due rows the archive must have first: held until its receipt is stored.
    held: Callable[[dt.date, int], QuerySet] | None = None
    delete: Callable[[list[int]], Any] | None = None  # default: the model's delete
    days: int = 0  # the default where the municipality may choose (else 0)
    bounds: tuple[int, int] | None = None  # the lowest and highest number it may choose
    pupil: str = ""  # the path to the pupil, for a legal hold

    def kept_for(self, days: int) -> str:
        return str(self.kept) % {"days": days} if self.bounds else str(self.kept)

    def remove(self, ids: list[int]) -> None:
        if self.delete is not None:
            self.delete(ids)
        else:
            self.due(clock.today(), self.days).model.objects.filter(pk__in=ids).delete()


RULES: tuple[Rule, ...] = (
    Rule(
        code="attendance",
        kind=_("Attendance and absence registered by the school"),
        kept=_("the school year and %(days)s days more"),
        archive=_("yes: each pupil's attendance and absence per school year (elevmappe)"),
        basis=_("The archive regulations § 7-28; the education act (absence on the report)."),
        due=_attendance_due,
        held=_attendance_held,  # until the archive's receipt for the pupil's year
        days=365,
        bounds=(0, 1825),
        pupil="pupil",
    ),
    Rule(
        code="absence_reports",
        kind=_("Guardians' absence reports with the reason"),
        kept=_("until the school year is over"),
        archive=_("no (the registered absence is archived)"),
        basis=_("Needed only to follow up the absence this school year."),
        due=lambda today, days: AbsenceReport.objects.filter(
            _year_begun_since("school", "end_date", today, 0)
        ),
        pupil="pupil",
    ),
    Rule(
        code="lookup_cases",
        kind=_("Missing-pupil lookups (etterlysing)"),
        kept=_("until the school year is over"),
        archive=_("only an escalated case, as a case document"),
        basis=_("The school's duty of care; an escalated case is part of the pupil's file."),
        due=_lookups_due,
        held=lambda today, days: _lookups_due(today).filter(escalated_at__isnull=False),
        pupil="pupil",
    ),
    Rule(
        code="leave",
        kind=_("Leave applications, decisions, appeals and letters"),
        kept=_("until the archive has them and the appeal period is over"),
        archive=_("yes: a case on the pupil's rights and duties"),
        basis=_("The archive regulations § 7-28; the public administration act."),
        due=_leave_due,
        held=_leave_held,  # until the archive's receipt for the pupil's year
        pupil="pupil",
    ),
    Rule(
        code="relay_logs",
        kind=_("Relay logs (stafettlogg), closed"),
        kept=_("%(days)s days after the archive's receipt for the closed log"),
        archive=_("yes: the whole log as one document when it is closed"),
        basis=_("The archive regulations § 7-28; the consents given for the log."),
        due=_relay_logs_due,
        held=_relay_logs_held,
        delete=lambda ids: relaylog_closing.logs_remove(ids),
        days=30,
        bounds=(0, 3650),
        pupil="pupil",
    ),
    Rule(
        code="archive_content",
        kind=_(
            "Documents on their way to the archive (submissions, year-end documents, relay logs)"
        ),
        kept=_("%(days)s days after the archive's receipt; then only the journal reference"),
        archive=_("yes: that is where they go"),
        basis=_("Kept until the archive has them, and a little while to answer questions."),
        due=_delivered_due,
        held=lambda today, days: _delivered_due(today, days).exclude(_receipted(today, days)),
        delete=lambda ids: archive_services.contents_delete(ids),
        days=30,
        bounds=(1, 365),
    ),
    Rule(
        code="submissions",
        kind=_("Secure submissions: the receipt and what was sent where"),
        kept=_("%(days)s days after the archive's receipt"),
        archive=_("yes: the submission itself"),
        basis=_("Lets the sender see their receipts; the archive keeps the case."),
        due=_submissions_due,
        held=lambda today, days: _submissions_due(today, days).exclude(
            _receipted(today, days, "delivery__")
        ),
        delete=lambda ids: submission_services.submissions_remove(ids),
        days=365,
        bounds=(30, 1825),
    ),
    Rule(
        code="messages",
        kind=_("Messages and their attachments"),
        kept=_("the school year of the last message and %(days)s days more"),
        archive=_("only threads the school files in the archive"),
        basis=_("Contact between home and school; not a case record."),
        due=lambda today, days: Thread.objects.filter(
            _year_begun_since("school", "last_message_at__date", today, days)
        ),
        delete=_delete_threads,
        days=365,
        bounds=(0, 1825),
        pupil="pupil",
    ),
    Rule(
        code="notifications",
        kind=_("Notifications and their deliveries (e-mail, SMS, push)"),
        kept=_("%(days)s days"),
        archive=_("no"),
        basis=_("Needed only to deliver and to answer questions about a delivery."),
        due=lambda today, days: Notification.objects.filter(**_before("created_at", today, days)),
        days=90,
        bounds=(30, 365),
    ),
    Rule(
        code="sink",
        kind=_("Copies kept by the test mail and SMS sink"),
        kept=_("%(days)s days"),
        archive=_("no"),
        basis=_("Only for testing a school's set-up."),
        due=lambda today, days: SinkMessage.objects.filter(**_before("created_at", today, days)),
        days=30,
        bounds=(1, 90),
    ),
    Rule(
        code="invitations",
        kind=_("Invitation links"),
        kept=_("%(days)s days after they stop working"),
        archive=_("no"),
        basis=_("Needed only while the link works."),
        due=lambda today, days: Invitation.objects.filter(**_before("expires_at", today, days)),
        days=30,
        bounds=(0, 365),
    ),
    Rule(
        code="join_links",
        kind=_("Links to join a relay log"),
        kept=_("%(days)s days after they stop working"),
        archive=_("no"),
        basis=_("Needed only while the link works."),
        due=lambda today, days: JoinLink.objects.filter(**_before("expires_at", today, days)),
        days=30,
        bounds=(0, 365),
    ),
    Rule(
        code="sessions",
        kind=_("Login sessions"),
        kept=_("until they expire (after two weeks at most, sooner when idle)"),
        archive=_("no"),
        basis=_("Needed only while a person is logged in."),
        due=lambda today, days: Session.objects.filter(expire_date__lt=clock.at(today, dt.time(0))),
    ),
    Rule(
        code="tasks",
        kind=_("Finished background tasks (sending, building copies, checks)"),
        kept=_("%(days)s days"),
        archive=_("no"),
        basis=_("Needed only to find faults in the running of the system."),
        due=lambda today, days: DBTaskResult.objects.filter(
            finished_at__isnull=False, **_before("finished_at", today, days)
        ),
        days=7,
        bounds=(1, 365),
    ),
    Rule(
        code="audit",
        kind=_("The audit log: who did or read what, and when"),
        kept=_("%(days)s days"),
        archive=_("no"),
        basis=_(
            "Shows the person who has read their data, and the municipality that data are "
            "used rightly; kept long enough to look into a complaint."
        ),
        due=_audit_due,
        delete=_delete_audit_entries,
        days=1096,
        bounds=(AUDIT_MINIMUM_DAYS, 3650),
    ),
)


def days_chosen() -> dict[str, int]:
    """The days in force per rule: the municipality's choice, else the rule's default."""
    chosen = dict(RetentionChoice.objects.values_list("code", "days"))
    return {rule.code: chosen.get(rule.code, rule.days) for rule in RULES}


def retention_choose(*, actor: Any, code: str, days: int) -> RetentionChoice:
    """The municipality chooses how many days a rule keeps its records, within the rule's
    legal bounds. Audited with the old and the new number."""
    rule = next((r for r in RULES if r.code == code), None)
    if rule is None or rule.bounds is None:
        raise ValidationError(gettext("This rule has no number of days to choose."))
    low, high = rule.bounds
    if not low <= days <= high:
        raise ValidationError(
            gettext("Choose between %(low)s and %(high)s days.") % {"low": low, "high": high}
        )
    with transaction.atomic():
        before = days_chosen()[code]
        choice, _created = RetentionChoice.objects.update_or_create(
            code=code, defaults={"days": days, "chosen_by": actor, "chosen_at": clock.now()}
        )
        audit_log(
            actor=actor,
            action="privacy.retention.chosen",
            obj=choice,
            detail={"rule": code, "from": before, "to": days},
        )
    return choice


def legal_hold_set(*, actor: Any, pupil: Any, reason: str) -> LegalHold:
    """Nothing of the pupil is deleted by the retention rules while the hold lasts (a
    complaint, a court case, a request from the police)."""
    if not reason.strip():
        raise ValidationError(gettext("Give the reason for the hold."))
    with transaction.atomic():
        hold = LegalHold.objects.filter(pupil=pupil, lifted_at__isnull=True).first()
        if hold is None:
            hold = LegalHold.objects.create(
                pupil=pupil, reason=reason.strip(), set_by=actor, set_at=clock.now()
            )
            audit_log(
                actor=actor,
                action="privacy.legal_hold.set",
                obj=hold,
                school_id=pupil.school_id,
                detail={"pupil": pupil.pk},
            )
    return hold


def legal_hold_lift(*, actor: Any, pupil: Any) -> int:
    """The hold ends; the pupil's records past their time go in the next run."""
    with transaction.atomic():
        holds = list(LegalHold.objects.select_for_update().filter(pupil=pupil, lifted_at=None))
        for hold in holds:
            hold.lifted_at, hold.lifted_by = clock.now(), actor
            hold.save(update_fields=["lifted_at", "lifted_by"])
            audit_log(
                actor=actor,
                action="privacy.legal_hold.lifted",
                obj=hold,
                school_id=pupil.school_id,
                detail={"pupil": pupil.pk},
            )
    return len(holds)


def _kept(rule: Rule, today: dt.date, days: int) -> Q | None:
    """What keeps a due row: the archive's need (until its receipt) and a legal hold on
    its pupil. None when nothing can."""
    conditions = []
    if rule.held is not None:
        conditions.append(Q(Exists(rule.held(today, days).filter(pk=OuterRef("pk")))))
    if rule.pupil:
        hold = LegalHold.objects.filter(pupil=OuterRef(rule.pupil), lifted_at__isnull=True)
        conditions.append(Q(Exists(hold)))
    return functools.reduce(operator.or_, conditions) if conditions else None


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    days: int
    due: int
    held: int
    deleted: int


def _ids(queryset: QuerySet, limit: int) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])


def run(today: dt.date | None = None, *, dry_run: bool = False) -> list[Outcome]:
    """Delete what is due today, rule by rule, in batches; the archive's records wait for
    its receipt, a pupil's under a legal hold for its end. ``dry_run`` only counts.
    Audited as one entry with the counts."""
    today = today or clock.today()
    chosen = days_chosen()
    outcomes = []
    for rule in RULES:
        days = chosen[rule.code]
        due = rule.due(today, days)
        kept = _kept(rule, today, days)
        # NOT EXISTS, not NOT IN (subquery): PostgreSQL keeps a NOT IN list too large for
        # work_mem as a plain list and scans it for every row (hours on millions of marks).
        deletable = due.exclude(kept) if kept is not None else due
        due_count = due.count()
        held_count = due.filter(kept).count() if kept is not None else 0
        deleted = 0
        while not dry_run:
            with transaction.atomic():
                batch = _ids(deletable, BATCH)
                if not batch:
                    break
                rule.remove(batch)
            deleted += len(batch)
        outcomes.append(Outcome(rule, days, due_count, held_count, deleted))
    if not dry_run:
        audit_log(
            actor=None,
            action="privacy.retention.run",
            detail={o.rule.code: {"deleted": o.deleted, "held": o.held} for o in outcomes},
        )
    return outcomes
