"""Reads about absence, always scoped by the acting user (need to know included)."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from kontaktbok.absence import rules
from kontaktbok.absence.models import AbsenceReport, AttendanceMark, DailyCheck, LeaveExplanation
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.schools import access, selectors
from kontaktbok.schools.models import AbsenceType, Group, Pupil, School, SchoolYear

Explanation = str  # "reported" | "leave" | "staff" | "unexplained" | ""


def active_reports(pupils: Any, start: dt.date, end: dt.date) -> QuerySet[AbsenceReport]:
    return AbsenceReport.objects.filter(
        pupil__in=pupils,
        status=AbsenceReport.Status.ACTIVE,
        start_date__lte=end,
        end_date__gte=start,
    ).select_related("absence_type", "reported_by")


def leave_days(pupils: Any, start: dt.date, end: dt.date) -> QuerySet[LeaveExplanation]:
    return LeaveExplanation.objects.filter(
        pupil__in=pupils, start_date__lte=end, end_date__gte=start
    )


# --- guardians --------------------------------------------------------------------------


def guardian_report(*, actor: Any, report_id: int) -> AbsenceReport:
    """A report about one of the actor's own children, or 404."""
    report = (
        AbsenceReport.objects.select_related("pupil__school", "absence_type", "reported_by")
        .filter(pk=report_id, pupil__in=access.guardian_pupils(actor))
        .first()
    )
    if report is None:
        raise Http404
    return report


def checked_dates(pupil: Pupil, start: dt.date, end: dt.date | None = None) -> set[dt.date]:
    """The days up to today in [start, end] on which a class team of the pupil has done the
    daily check: reports covering them can no longer be changed."""
    last = min(end, clock.today()) if end else clock.today()
    return set(
        DailyCheck.objects.filter(
            group__in=pupil.groups.all(), date__gte=start, date__lte=last
        ).values_list("date", flat=True)
    )


def active_absence_types(school: School) -> QuerySet[AbsenceType]:
    return school.absence_types.filter(active=True).order_by("position", "id")


def absence_type_by_code(school: School | int, code: str) -> AbsenceType | None:
    return AbsenceType.objects.filter(school=school, code=code).first()


def guardian_child(*, actor: Any, pupil_id: int) -> Pupil:
    pupil = access.guardian_pupils(actor).select_related("school").filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    return pupil


@dataclass
class History:
    """A pupil's reported and registered absence this school year, with totals."""

    reports: list[AbsenceReport]
    absences: list[AttendanceMark]
    absent_days: int
    absent_hours: float
    school_days: int

    @property
    def share(self) -> float:
        return round(100 * self.absent_days / self.school_days, 1) if self.school_days else 0.0


def _lesson_hours(school: School) -> float:
    start = dt.datetime.combine(dt.date.min, school.first_lesson_start)
    end = dt.datetime.combine(dt.date.min, school.first_lesson_end)
    return round((end - start).total_seconds() / 3600, 2)


def days_and_hours(marks: list[AttendanceMark], school: School) -> tuple[list[dt.date], float]:
    """Whole days absent (a whole-day mark, or every lesson of the day) and hours absent
    (single lessons and minutes late), each day and lesson counted once across groups."""
    whole = {m.date for m in marks if m.status == "absent" and m.lesson is None}
    lessons = {(m.date, m.lesson) for m in marks if m.status == "absent" and m.lesson is not None}
    per_day: dict[dt.date, int] = {}
    for day, _lesson in lessons:
        per_day[day] = per_day.get(day, 0) + 1
    full = {day for day, count in per_day.items() if count >= school.lessons_per_day}
    days = sorted(whole | full)
    hours = _lesson_hours(school) * sum(1 for day, _ in lessons if day not in whole | full)
    late = {(m.date, m.lesson): m.late_minutes or 0 for m in marks if m.status == "late"}
    hours += sum(late.values()) / 60
    return days, round(hours, 1)


def absence_history(
    *, actor: Any, pupil: Pupil, role: str, school_year: SchoolYear | None = None
) -> History:
    """Reports and registered absence this school year (``school_year`` if the caller has
    read it already); every read is audited."""
    audit_log(
        actor=actor, action="absence.history.read", obj=pupil, role=role, school_id=pupil.school_id
    )
    return history_for_a_document(pupil, school_year)


def history_for_a_document(pupil: Pupil, school_year: SchoolYear | None = None) -> History:
    """The same, not audited: for a document the system makes with no reader yet (a
    decision letter, the year-end record for the archive); whoever opens the document is
    audited there."""
    year = school_year or selectors.current_school_year(pupil.school)
    today = clock.today()
    start = year.starts_on if year else today
    reports_in_year = AbsenceReport.objects.filter(pupil=pupil, end_date__gte=start)
    marks_in_year = AttendanceMark.objects.filter(pupil=pupil, date__gte=start)
    if year is not None:  # a past year ends on its last day (the pupil's year-end record)
        reports_in_year = reports_in_year.filter(start_date__lte=year.ends_on)
        marks_in_year = marks_in_year.filter(date__lte=year.ends_on)
    reports = list(
        reports_in_year.select_related("absence_type", "reported_by").order_by("-start_date", "-id")
    )
    marks = list(
        marks_in_year.exclude(status=AttendanceMark.Status.PRESENT).order_by("-date", "lesson")
    )
    whole_days, hours = days_and_hours(marks, pupil.school)
    days_so_far = len(selectors.school_days(year, start, today)) if year else 0
    return History(
        reports=reports,
        absences=marks,
        absent_days=len(whole_days),
        absent_hours=hours,
        school_days=days_so_far,
    )


# --- staff: registration and the daily check --------------------------------------------


def staff_group(*, actor: Any, group_id: int) -> Group:
    group = (
        access.visible_groups(actor)
        .select_related("school", "school_year")
        .filter(pk=group_id)
        .first()
    )
    if group is None or not rules.works_with_group(actor, group):
        raise Http404
    return group


@dataclass
class Row:
    pupil: Pupil
    mark: AttendanceMark | None
    report: AbsenceReport | None
    on_leave: bool
    show_details: bool

    @property
    def absent(self) -> bool:
        return self.mark is not None and self.mark.status == AttendanceMark.Status.ABSENT

    @property
    def expected_away(self) -> bool:
        """A guardian reported the whole day, or the pupil has approved leave."""
        return self.on_leave or (self.report is not None and self.report.whole_day)

    @property
    def conflict(self) -> bool:
        """Registered present although reported away for the day or on leave: one of the
        two is wrong, and the class team should find out which."""
        present = self.mark is not None and self.mark.status == AttendanceMark.Status.PRESENT
        return present and self.expected_away

    @property
    def explanation(self) -> Explanation:
        if not self.absent and not (self.mark and self.mark.status == "late"):
            return ""
        if self.report is not None:
            return "reported"
        if self.on_leave:
            return "leave"
        if self.mark and self.mark.staff_reason:
            return "staff"
        return "unexplained"


@dataclass
class Sheet:
    group: Group
    date: dt.date
    lesson: int | None
    rows: list[Row]
    check: DailyCheck | None
    registered: bool
    counts: dict[str, int] = field(default_factory=dict)


def group_pupil_ids(group: Group) -> list[int]:
    """The group's pupils in the order of its registration form."""
    return list(group.pupils.order_by("last_name", "first_name").values_list("pk", flat=True))


def day_sheet(*, actor: Any, group: Group, date: dt.date, lesson: int | None = None) -> Sheet:
    """Everything about a group's day in a fixed number of queries: pupils, marks, reports
    (type and comment only for those who need to know), leave and the check."""
    pupils = list(group.pupils.order_by("last_name", "first_name"))
    ids = [p.pk for p in pupils]
    mark_q = Q(lesson=lesson) if lesson is not None else Q(lesson__isnull=True)
    marks = {m.pupil_id: m for m in AttendanceMark.objects.filter(mark_q, group=group, date=date)}
    reports = {r.pupil_id: r for r in active_reports(ids, date, date)}
    leave = set(leave_days(ids, date, date).values_list("pupil_id", flat=True))
    details = rules.details_by_pupil(actor, group, ids)
    rows = [
        Row(
            pupil=p,
            mark=marks.get(p.pk),
            report=reports.get(p.pk),
            on_leave=p.pk in leave,
            show_details=details[p.pk],
        )
        for p in pupils
    ]
    check = DailyCheck.objects.filter(group=group, date=date).select_related("checked_by").first()
    counts = {
        "reported": sum(1 for r in rows if r.report is not None),
        "absent": sum(1 for r in rows if r.absent),
        "leave": sum(1 for r in rows if r.on_leave),
        "unexplained": sum(1 for r in rows if r.explanation == "unexplained"),
        "late": sum(1 for r in rows if r.mark and r.mark.status == "late"),
        "conflicts": sum(1 for r in rows if r.conflict),
    }
    return Sheet(
        group=group,
        date=date,
        lesson=lesson,
        rows=rows,
        check=check,
        registered=bool(marks),
        counts=counts,
    )


@dataclass
class GroupStatus:
    group: Group
    check: DailyCheck | None
    registered: bool
    late: bool


def school_check_status(
    *, actor: Any, school_id: int, date: dt.date | None = None
) -> tuple[School, list[GroupStatus], bool]:
    """Kontor and leiing: which classes have checked today, and whether the deadline passed."""
    school = selectors.get_visible_school(actor=actor, school_id=school_id)
    date = date or clock.today()
    year = selectors.current_school_year(school, date)
    classes = list(
        Group.objects.filter(school_year=year, school=school, kind=Group.Kind.CLASS)
        .order_by("grade", "name")
        .prefetch_related(
            Prefetch(
                "daily_checks",
                queryset=DailyCheck.objects.filter(date=date).select_related("checked_by"),
                to_attr="today_checks",
            )
        )
    )
    registered = set(
        AttendanceMark.objects.filter(group__in=classes, date=date)
        .values_list("group_id", flat=True)
        .distinct()
    )
    past = (
        clock.local_now() >= clock.at(date, school.check_deadline)
        if date == clock.today()
        else date < clock.today()
    )
    rows = [
        GroupStatus(
            group=g,
            check=next(iter(g.today_checks), None),
            registered=g.pk in registered,
            late=past and not g.today_checks,
        )
        for g in classes
    ]
    return school, rows, past


# --- statistics -------------------------------------------------------------------------


@dataclass
class PupilStats:
    pupil: Pupil
    absent_days: int
    absent_hours: float
    share: float
    concerning: bool
    reasons: list[str]
    days: list[dt.date]


def group_statistics(*, actor: Any, group: Group) -> list[PupilStats]:
    """Per pupil this school year: days and hours absent, share of school days, and the
    "concerning absence" flag (over the school's share in the last four weeks, or the same
    weekday absent three times in six weeks), with the underlying days."""
    if not rules.may_check(actor, group):  # class team, kontor and leiing
        raise Http404
    school = group.school
    year = selectors.current_school_year(school)
    today = clock.today()
    if year is None:
        return []
    all_days = selectors.school_days(year, year.starts_on, today)
    four_weeks = [d for d in all_days if d > today - dt.timedelta(days=28)]
    six_weeks_start = today - dt.timedelta(days=42)
    pupils = list(group.pupils.order_by("last_name", "first_name"))
    marks = AttendanceMark.objects.filter(
        pupil__in=pupils, date__gte=year.starts_on, date__lte=today
    ).exclude(status="present")
    by_pupil: dict[int, list[AttendanceMark]] = {p.pk: [] for p in pupils}
    for mark in marks:
        by_pupil[mark.pupil_id].append(mark)
    result = []
    for pupil in pupils:
        own = by_pupil[pupil.pk]
        days, hours = days_and_hours(own, school)
        recent = [d for d in days if d in four_weeks]
        reasons = []
        if four_weeks and 100 * len(recent) / len(four_weeks) >= school.concern_percent:
            reasons.append("share")
        weekdays: dict[int, int] = {}
        for d in days:
            if d >= six_weeks_start:
                weekdays[d.weekday()] = weekdays.get(d.weekday(), 0) + 1
        if any(count >= 3 for count in weekdays.values()):
            reasons.append("weekday")
        result.append(
            PupilStats(
                pupil=pupil,
                absent_days=len(days),
                absent_hours=round(hours, 1),
                share=round(100 * len(days) / len(all_days), 1) if all_days else 0.0,
                concerning=bool(reasons),
                reasons=reasons,
                days=days,
            )
        )
    audit_log(actor=actor, action="absence.statistics.read", obj=group, school_id=group.school_id)
    return result
