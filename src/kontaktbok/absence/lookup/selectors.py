"""Reads about looking for missing pupils: who is missing now (for the background work),
and the cases an acting user may see, with their timelines."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from kontaktbok.absence.models import (
    AbsenceReport,
    AttendanceMark,
    LeaveExplanation,
    LookupCase,
)
from kontaktbok.absence.rules import DETAIL_GROUP_ROLES
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications.models import Delivery, Notification
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Group, Pupil, School, StaffRole

Role = StaffRole.Role
Status = LookupCase.Status

# --- background work: who is missing --------------------------------------------------


@dataclass(frozen=True)
class Missing:
    pupil: Pupil
    group: Group  # the pupil's class this school year
    mark: AttendanceMark  # the registration that shows the pupil absent


def lookup_time(school: School, grade: int | None) -> dt.time:
    """When the school looks for missing pupils of this grade: grades 1–7 during the
    first lesson, 8–10 around the first break."""
    if grade is not None and grade >= 8:
        return school.lookup_time_secondary
    return school.lookup_time_primary


def missing_pupils(*, day: dt.date, pupil_ids: list[int] | None = None) -> list[Missing]:
    """Pupils whose latest registration on ``day`` is absent, with no reason given by
    staff, no report covering the day, no approved leave, and no case yet; only on the
    school days of their school, and only pupils in a class (the class gives the grade)."""
    absent = AttendanceMark.objects.filter(
        date=day, status=AttendanceMark.Status.ABSENT, staff_reason=""
    ).exclude(Exists(LookupCase.objects.filter(pupil=OuterRef("pupil_id"), date=day)))
    if pupil_ids is not None:
        absent = absent.filter(pupil_id__in=pupil_ids)
    candidates = set(absent.values_list("pupil_id", flat=True))
    if not candidates:
        return []
    latest = _latest_marks(day, candidates)
    still = {
        pupil_id
        for pupil_id, mark in latest.items()
        if mark.status == AttendanceMark.Status.ABSENT and not mark.staff_reason
    }
    if not still:
        return []
    explained = set(
        AbsenceReport.objects.filter(
            pupil_id__in=still,
            status=AbsenceReport.Status.ACTIVE,
            start_date__lte=day,
            end_date__gte=day,
        ).values_list("pupil_id", flat=True)
    ) | set(
        LeaveExplanation.objects.filter(
            pupil_id__in=still, start_date__lte=day, end_date__gte=day
        ).values_list("pupil_id", flat=True)
    )
    still -= explained
    if not still:
        return []
    classes = {
        row.pupil_id: row.group
        for row in Group.pupils.through.objects.filter(
            pupil_id__in=still,
            group__kind=Group.Kind.CLASS,
            group__school_year__starts_on__lte=day,
            group__school_year__ends_on__gte=day,
        ).select_related("group", "pupil__school")
    }
    school_day: dict[int, bool] = {}
    result = []
    for pupil_id in sorted(classes):
        group = classes[pupil_id]
        if group.school_id not in school_day:
            year = school_selectors.school_year_if_school_day(group.school, day)
            school_day[group.school_id] = year is not None
        if school_day[group.school_id]:
            pupil = Pupil.objects.select_related("school").get(pk=pupil_id)
            result.append(Missing(pupil=pupil, group=group, mark=latest[pupil_id]))
    return result


def open_case_today(pupil: Any) -> QuerySet[LookupCase]:
    """The pupil's open case today (at most one), for a ``Subquery`` on the pupil's read
    (``OuterRef``): a guardian's report then closes it without reading it first."""
    return LookupCase.objects.filter(pupil=pupil, date=clock.today()).exclude(status=Status.CLOSED)


def with_open_case(pupils: QuerySet[Pupil]) -> QuerySet[Pupil]:
    """Read each pupil's open case today with the pupil (for ``services.report_received``)."""
    case = open_case_today(OuterRef("pk"))
    return pupils.annotate(
        open_case_id=Subquery(case.values("pk")[:1]),
        open_case_school_id=Subquery(case.values("school_id")[:1]),
        open_case_answer=Subquery(case.values("answer")[:1]),
    )


def open_cases_of(pupil_ids: list[int], day: dt.date) -> list[LookupCase]:
    if not pupil_ids:
        return []
    return list(
        LookupCase.objects.filter(pupil_id__in=pupil_ids, date=day)
        .exclude(status=Status.CLOSED)
        .select_related("pupil", "school", "group")
    )


def has_open_case(pupil_ids: list[int], day: dt.date) -> bool:
    return (
        LookupCase.objects.filter(pupil_id__in=pupil_ids, date=day)
        .exclude(status=Status.CLOSED)
        .exists()
    )


def _latest_marks(day: dt.date, pupil_ids: set[int]) -> dict[int, AttendanceMark]:
    """Each pupil's latest registration on ``day``: the last one saved wins."""
    latest: dict[int, AttendanceMark] = {}
    marks = AttendanceMark.objects.filter(date=day, pupil_id__in=pupil_ids)
    for mark in marks.select_related("registered_by").order_by("registered_at", "lesson", "pk"):
        latest[mark.pupil_id] = mark
    return latest


def arrived_cases(
    *, day: dt.date, pupil_ids: list[int] | None = None
) -> list[tuple[LookupCase, AttendanceMark]]:
    """Open cases of ``day`` whose pupil's latest registration is present or late, each
    with that registration."""
    cases = LookupCase.objects.filter(date=day).exclude(status=Status.CLOSED)
    if pupil_ids is not None:
        cases = cases.filter(pupil_id__in=pupil_ids)
    found = list(cases.select_related("pupil", "school", "group").order_by("pk"))
    if not found:
        return []
    latest = _latest_marks(day, {case.pupil_id for case in found})
    return [
        (case, latest[case.pupil_id])
        for case in found
        if case.pupil_id in latest and latest[case.pupil_id].status != AttendanceMark.Status.ABSENT
    ]


def due_for_escalation(now: dt.datetime) -> list[LookupCase]:
    """Unanswered cases of today whose window has passed."""
    today = now.astimezone(clock.SCHOOL_TZ).date()
    return list(
        LookupCase.objects.filter(status=Status.OPEN, escalate_at__lte=now, date=today)
        .select_related("pupil", "school", "group")
        .order_by("escalate_at", "pk")
    )


def unregistered_classes(now: dt.datetime) -> list[Group]:
    """Classes with pupils and no attendance registered today, at schools where today is a
    school day and the first lesson is over."""
    today = now.date()
    registered = AttendanceMark.objects.filter(group=OuterRef("pk"), date=today)
    groups = (
        Group.objects.filter(
            kind=Group.Kind.CLASS,
            school_year__starts_on__lte=today,
            school_year__ends_on__gte=today,
            pupils__isnull=False,
        )
        .exclude(Exists(registered))
        .select_related("school")
        .distinct()
        .order_by("school_id", "pk")
    )
    result = []
    school_day: dict[int, bool] = {}
    for group in groups:
        if now.time() < group.school.first_lesson_end:
            continue
        if group.school_id not in school_day:
            year = school_selectors.school_year_if_school_day(group.school, today)
            school_day[group.school_id] = year is not None
        if school_day[group.school_id]:
            result.append(group)
    return result


def notified_keys(keys: list[str]) -> set[str]:
    """Which of these outbox dedup keys some notification already has."""
    if not keys:
        return set()
    return set(Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True))


# --- who sees a case ------------------------------------------------------------------


def _detail_group_ids(actor: Any) -> list[int]:
    roles = access.roles_of(actor)
    return [gid for gid, held in roles.group_roles.items() if held & DETAIL_GROUP_ROLES]


def staff_cases(actor: Any) -> QuerySet[LookupCase]:
    """Cases the actor sees as staff: kontor and leiing their whole school; the contact
    teacher and class team the pupils of their classes."""
    roles = access.roles_of(actor)
    q = Q(school_id__in=roles.sees_whole_school)
    group_ids = _detail_group_ids(actor)
    if group_ids:
        q |= Q(
            Exists(
                Group.pupils.through.objects.filter(
                    pupil_id=OuterRef("pupil_id"), group_id__in=group_ids
                )
            )
        )
    return LookupCase.objects.filter(q)


def guardian_cases(actor: Any) -> QuerySet[LookupCase]:
    return LookupCase.objects.filter(pupil__in=access.guardian_pupils(actor))


def _get(queryset: QuerySet[LookupCase], case_id: int, lock: bool = False) -> LookupCase:
    queryset = queryset.select_related("pupil", "school", "group")
    if lock:  # inside the caller's transaction: the case row only
        queryset = queryset.select_for_update(of=("self",))
    case = queryset.filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


def guardian_case(*, actor: Any, case_id: int, lock: bool = False) -> LookupCase:
    return _get(guardian_cases(actor), case_id, lock)


def staff_case(*, actor: Any, case_id: int) -> LookupCase:
    return _get(staff_cases(actor), case_id)


def visible_case(*, actor: Any, case_id: int) -> tuple[LookupCase, str]:
    """A case the actor sees, and as whom: 'guardian' or 'staff'; else 404."""
    try:
        return staff_case(actor=actor, case_id=case_id), "staff"
    except Http404:
        return guardian_case(actor=actor, case_id=case_id), "guardian"


def staff_role(actor: Any, case: LookupCase) -> str:
    roles = access.roles_of(actor)
    for role in (Role.LEADERSHIP, Role.OFFICE):
        if roles.has_school_role(case.school_id, role):
            return role
    held = roles.group_roles.get(case.group_id or 0, frozenset())
    return next((r for r in (Role.CONTACT_TEACHER, Role.CLASS_TEAM) if r in held), "")


def may_close(actor: Any, case: LookupCase) -> bool:
    return staff_cases(actor).filter(pk=case.pk).exists()


def guardian_open_cases(*, actor: Any) -> list[LookupCase]:
    """The actor's children who are being looked for now (shown at the top of each page
    the guardian opens, so the question cannot be missed)."""
    return list(
        guardian_cases(actor)
        .filter(date=clock.today())
        .exclude(status=Status.CLOSED)
        .select_related("pupil")
        .order_by("opened_at")
    )


def group_cases(*, actor: Any, group_id: int, day: dt.date) -> list[LookupCase]:
    """The day's cases of a class's pupils, linked from its registration and check pages."""
    return list(
        staff_cases(actor)
        .filter(group_id=group_id, date=day)
        .select_related("pupil")
        .order_by("opened_at", "pk")
    )


# --- the live overview ----------------------------------------------------------------


GUARDIAN_STEPS = ("alert", "escalation", "arrived")


def school_cases(*, actor: Any, school_id: int) -> tuple[School, list[LookupCase]]:
    """Kontor's and leiing's overview: every case still open, and today's closed ones, each
    with its last contact with the guardians (the latest delivered alert, or their answer).
    Three queries, however many cases."""
    school = school_selectors.get_visible_school(
        actor=actor, school_id=school_id, roles=Role.OFFICE
    )
    cases = list(
        LookupCase.objects.filter(school=school)
        .filter(Q(date=clock.today()) | ~Q(status=Status.CLOSED))
        .select_related("pupil", "group")
        .order_by("-opened_at", "-pk")
    )
    keys = [f"lookup:{case.pk}:{step}" for case in cases for step in GUARDIAN_STEPS]
    delivered: dict[int, dt.datetime] = {}
    rows = (
        Delivery.objects.filter(notification__dedup_key__in=keys, status=Delivery.Status.DELIVERED)
        .values_list("notification__dedup_key")
        .annotate(last=Max("delivered_at"))
        .order_by()
    )
    for key, last in rows if keys else []:
        case_id = int(key.split(":")[1])
        if last and (case_id not in delivered or last > delivered[case_id]):
            delivered[case_id] = last
    for case in cases:
        contacts = [t for t in (delivered.get(case.pk), case.answered_at) if t]
        case.last_contact = max(contacts) if contacts else None  # type: ignore[attr-defined]
    cases.sort(key=lambda c: (c.status == Status.CLOSED, c.opened_at))
    return school, cases


# --- the timeline ---------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str  # registered | opened | alert | answered | escalated | closed
    actor: str = ""
    channel: str = ""
    status: str = ""
    detail: str = ""
    step: str = ""


TIMELINE_ACTIONS = {
    "absence.lookup.opened": "opened",
    "absence.lookup.answered": "answered",
    "absence.lookup.escalated": "escalated",
    "absence.lookup.closed": "closed",
}


def timeline(*, actor: Any, case: LookupCase, as_guardian: bool) -> list[Event]:
    """The case from the audit log and the outbox: registered absent, each alert with its
    channel and delivery status, each answer, the escalation and the closing. Guardians see
    only the alerts sent to themselves."""
    events = [
        Event(
            at=case.registered_at,
            kind="registered",
            actor=case.registered_by.get_full_name() if case.registered_by else "",
        )
    ]
    entries = AuditEntry.objects.filter(
        object_type=LookupCase._meta.label_lower,
        object_id=str(case.pk),
        action__in=list(TIMELINE_ACTIONS),
    ).order_by("created_at", "pk")
    for entry in entries:
        events.append(
            Event(
                at=entry.created_at,
                kind=TIMELINE_ACTIONS[entry.action],
                actor=entry.actor_name,
                detail=str(entry.detail.get("answer") or entry.detail.get("outcome") or ""),
            )
        )
    notifications = Notification.objects.filter(
        dedup_key__startswith=f"lookup:{case.pk}:", school_id=case.school_id
    )
    if as_guardian:
        notifications = notifications.filter(recipient=actor)
    deliveries = (
        Delivery.objects.filter(notification__in=notifications)
        .select_related("notification__recipient")
        .order_by("pk")
    )
    for delivery in deliveries:
        notification = delivery.notification
        events.append(
            Event(
                at=delivery.delivered_at or delivery.claimed_at or notification.created_at,
                kind="alert",
                actor=notification.recipient.get_full_name(),
                channel=delivery.channel,
                status=delivery.status,
                detail="" if as_guardian else delivery.provider_answer[:200],
                step=notification.dedup_key.rsplit(":", 1)[-1],
            )
        )
    return sorted(events, key=lambda e: e.at)
