"""Absence: guardians' reports (meld fråvær), attendance marks, leave that explains absence,
and the class team's daily check."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import AbsenceType, Group, Pupil, School


class AbsenceReport(models.Model):
    """A guardian's report that a pupil will be (or was) away: whole days or given hours."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("reported")
        WITHDRAWN = "withdrawn", _("withdrawn")

    pupil = models.ForeignKey(
        Pupil, verbose_name=_("pupil"), on_delete=models.CASCADE, related_name="absence_reports"
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    absence_type = models.ForeignKey(
        AbsenceType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    whole_day = models.BooleanField(_("whole day"), default=True)
    start_time = models.TimeField(_("from time"), null=True, blank=True)
    end_time = models.TimeField(_("to time"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    late = models.BooleanField(_("reported late"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (NULL: none)
    created_at = models.DateTimeField(_("reported"))
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("absence report")
        verbose_name_plural = _("absence reports")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lte=F("end_date")), name="report_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(whole_day=True)
                | Q(start_time__isnull=False, end_time__isnull=False, start_time__lt=F("end_time")),
                name="report_hours_ordered",
            ),
            models.UniqueConstraint(
                fields=["reported_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="report_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["pupil", "start_date", "end_date"]),
            models.Index(fields=["school", "start_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} {self.start_date}–{self.end_date}"


class LeaveExplanation(models.Model):
    """Days of approved leave; the leave part records them here so they explain absence."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="leave_days")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    reference = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.pupil} {self.start_date}–{self.end_date}"


class AttendanceMark(models.Model):
    """One pupil's attendance in one group on one day (or one lesson of it)."""

    class Status(models.TextChoices):
        PRESENT = "present", _("present")
        ABSENT = "absent", _("absent")
        LATE = "late", _("late")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="attendance")
    date = models.DateField(_("date"))
    lesson = models.PositiveSmallIntegerField(_("lesson"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    late_minutes = models.PositiveSmallIntegerField(_("minutes late"), null=True, blank=True)
    staff_reason = models.CharField(_("explained by staff"), max_length=200, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "group", "date", "lesson"],
                condition=Q(lesson__isnull=False),
                name="attendance_per_lesson",
            ),
            models.UniqueConstraint(
                fields=["pupil", "group", "date"],
                condition=Q(lesson__isnull=True),
                name="attendance_per_day",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "date"]),
            models.Index(fields=["pupil", "date"]),
            # Looking for missing pupils reads today's absent marks every minute.
            models.Index(fields=["date"], condition=Q(status="absent"), name="attendance_absent"),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} {self.date} {self.status}"


class DailyCheck(models.Model):
    """The class team has checked the day's absence for a group (before 09:00)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="daily_checks")
    date = models.DateField(_("date"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "date"], name="one_check_per_group_day")
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.date}"


class LookupCase(models.Model):
    """Etterlysing: a pupil registered absent with no report and no leave is looked for.
    One case per pupil and day; its timeline is the audit log and the outbox."""

    class Status(models.TextChoices):
        OPEN = "open", _("looked for")
        ANSWERED = "answered", _("guardian answered")
        ESCALATED = "escalated", _("escalated")
        CLOSED = "closed", _("closed")

    class Answer(models.TextChoices):
        HOME_SICK = "home_sick", _("at home sick")
        ON_THE_WAY = "on_the_way", _("found, on the way")
        FOUND = "found", _("found")
        REPORTED = "reported", _("absence reported")

    class Outcome(models.TextChoices):
        ARRIVED = "arrived", _("arrived at school")
        FOUND = "found", _("found")
        HOME_SICK = "home_sick", _("at home sick")
        POLICE = "police", _("police contacted")
        OTHER = "other", _("other")

    OPEN_STATUSES = (Status.OPEN, Status.ANSWERED, Status.ESCALATED)

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="lookup_cases")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(
        Group, verbose_name=_("class"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    date = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered absent"))
    opened_at = models.DateTimeField(_("opened"))
    escalate_at = models.DateTimeField(_("escalation due"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=10, choices=Answer.choices, blank=True)
    answer_text = models.CharField(_("answer text"), max_length=300, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_text = models.CharField(_("note"), max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("lookup case")
        verbose_name_plural = _("lookup cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pupil", "date"], name="one_lookup_per_pupil_day"),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False, outcome__gt=""),
                name="closed_lookup_has_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "date"]),
            models.Index(
                fields=["escalate_at"], condition=Q(status="open"), name="lookup_escalation_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} {self.date} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED
