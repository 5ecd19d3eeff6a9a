"""The school model: municipality, school and its school-day settings, calendar, groups,
pupils, guardianship and staff roles."""

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import ManyRelatedManager

org_number_validator = RegexValidator(
    r"^\d{9}$", _("An organisation number has exactly nine digits.")
)


class Municipality(models.Model):
    name = models.CharField(_("name"), max_length=100)
    org_number = models.CharField(
        _("organisation number"), max_length=9, unique=True, validators=[org_number_validator]
    )
    reader_names_shown = models.BooleanField(
        _("show readers' names to guardians"),
        default=True,
        help_text=_(
            "In the list of who has seen a child's data, guardians see the name of each "
            "staff member, not only the role and the school."
        ),
    )

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """A school with the settings of its school day (all school-local time)."""

    class Language(models.TextChoices):
        NYNORSK = "nn", _("Norwegian Nynorsk")
        BOKMAL = "nb", _("Norwegian Bokmål")

    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="schools",
    )
    name = models.CharField(_("name"), max_length=100)
    org_number = models.CharField(
        _("organisation number"), max_length=9, unique=True, validators=[org_number_validator]
    )
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    language = models.CharField(
        _("default language"), max_length=2, choices=Language.choices, default=Language.NYNORSK
    )
    report_deadline = models.TimeField(
        _("absence report deadline"),
        default=dt.time(8, 30),
        help_text=_(
            "Guardians report absence by this time on the day; later reports are "
            "accepted and marked late."
        ),
    )
    check_deadline = models.TimeField(
        _("class team check deadline"),
        default=dt.time(9, 0),
        help_text=_("The class team checks the day's absence before this time."),
    )
    first_lesson_start = models.TimeField(_("first lesson starts"), default=dt.time(8, 30))
    first_lesson_end = models.TimeField(_("first lesson ends"), default=dt.time(9, 15))
    first_break_start = models.TimeField(_("first break starts"), default=dt.time(10, 0))
    first_break_end = models.TimeField(_("first break ends"), default=dt.time(10, 15))
    lookup_time_primary = models.TimeField(
        _("missing pupils looked for, grades 1–7"),
        default=dt.time(8, 50),
        help_text=_("During the first lesson."),
    )
    lookup_time_secondary = models.TimeField(
        _("missing pupils looked for, grades 8–10"),
        default=dt.time(10, 0),
        help_text=_("Around the first break."),
    )
    report_max_school_days = models.PositiveSmallIntegerField(
        _("absence may be reported this many school days ahead"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Longer absence is applied for as leave."),
    )
    registers_by_lesson = models.BooleanField(
        _("attendance is registered per lesson"),
        default=False,
        help_text=_("Otherwise once a day."),
    )
    lessons_per_day = models.PositiveSmallIntegerField(
        _("lessons per day"), default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    check_reminder_minutes = models.PositiveSmallIntegerField(
        _("remind the class team this many minutes before the check deadline"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    concern_percent = models.PositiveSmallIntegerField(
        _("concerning absence: share of the last four weeks (%)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    staff_work_start = models.TimeField(
        _("staff working hours start"),
        default=dt.time(8, 0),
        help_text=_("Staff get non-urgent notifications only in working hours, Monday to Friday."),
    )
    staff_work_end = models.TimeField(_("staff working hours end"), default=dt.time(16, 0))
    escalation_minutes = models.PositiveSmallIntegerField(
        _("escalation window (minutes)"),
        default=40,
        validators=[MinValueValidator(30), MaxValueValidator(45)],
        help_text=_(
            "If a missing pupil is not accounted for within this time, the guardians "
            "are told to consider contacting the police and the leadership is alerted."
        ),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(escalation_minutes__gte=30) & Q(escalation_minutes__lte=45),
                name="school_escalation_window_30_45",
            ),
            models.CheckConstraint(
                condition=Q(first_lesson_start__lt=models.F("first_lesson_end")),
                name="school_first_lesson_ordered",
            ),
            models.CheckConstraint(
                condition=Q(first_break_start__lt=models.F("first_break_end")),
                name="school_first_break_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AbsenceType(models.Model):
    """One entry in the school's own list of absence types (sjuk, lege, ...)."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="absence_types"
    )
    code = models.SlugField(_("code"), max_length=30)
    name_nn = models.CharField(_("name (Nynorsk)"), max_length=60)
    name_nb = models.CharField(_("name (Bokmål)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    counted_in_hours = models.BooleanField(_("counted in hours"), default=False)
    active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("absence type")
        verbose_name_plural = _("absence types")
        ordering = ["school", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="absence_type_code_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        language = (get_language() or "nn")[:2]
        return {"nb": self.name_nb, "en": self.name_en}.get(language, self.name_nn)


class SchoolYear(models.Model):
    """A school year; school days are its weekdays that fall in no holiday."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="school_years"
    )
    name = models.CharField(_("name"), max_length=20)
    starts_on = models.DateField(_("first school day"))
    ends_on = models.DateField(_("last school day"))

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["school", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="school_year_name_unique"),
            models.CheckConstraint(
                condition=Q(starts_on__lt=models.F("ends_on")), name="school_year_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """A period without school (haustferie, juleferie, planning days, ...)."""

    school_year = models.ForeignKey(
        SchoolYear,
        verbose_name=_("school year"),
        on_delete=models.CASCADE,
        related_name="holidays",
    )
    name = models.CharField(_("name"), max_length=60)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="holiday_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MunicipalCalendar(models.Model):
    """The school calendar (skolerute) the municipality sets for all its schools for one
    year. A school turning its year takes the next one when it exists."""

    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.CASCADE,
        related_name="calendars",
    )
    name = models.CharField(_("name"), max_length=20)
    starts_on = models.DateField(_("first school day"))
    ends_on = models.DateField(_("last school day"))
    # [[name, "YYYY-MM-DD", "YYYY-MM-DD"], ...]: holidays and planning days.
    holidays = models.JSONField(_("holidays"), default=list)

    class Meta:
        verbose_name = _("the municipality's school calendar")
        verbose_name_plural = _("the municipality's school calendars")
        ordering = ["municipality", "starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="municipal_calendar_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__lt=models.F("ends_on")), name="municipal_calendar_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def holiday_periods(self) -> list[tuple[str, dt.date, dt.date]]:
        return [
            (name, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
            for name, start, end in self.holidays
        ]


class Group(models.Model):
    """A class (with its grade), another teaching group, or an SFO group."""

    class Kind(models.TextChoices):
        CLASS = "class", _("class")
        TEACHING = "teaching", _("teaching group")
        SFO = "sfo", _("SFO")

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="groups"
    )
    school_year = models.ForeignKey(
        SchoolYear,
        verbose_name=_("school year"),
        on_delete=models.CASCADE,
        related_name="groups",
    )
    name = models.CharField(_("name"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CLASS)
    grade = models.PositiveSmallIntegerField(
        _("grade"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    pupils: "models.ManyToManyField[Pupil, Any]" = models.ManyToManyField(
        "Pupil", verbose_name=_("pupils"), related_name="groups", blank=True
    )

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["school", "grade", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_year", "name"], name="group_name_unique_per_year"
            ),
            models.CheckConstraint(
                condition=Q(kind="class", grade__isnull=False) | ~Q(kind="class"),
                name="class_has_grade",
            ),
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | (Q(grade__gte=1) & Q(grade__lte=10)),
                name="group_grade_1_10",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Pupil(models.Model):
    """A pupil. The national identity number is kept only as a keyed digest."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="pupils"
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    nin_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    protected_address = models.BooleanField(_("protected address"), default=False)
    # The last day at the school: kept for the archive, never deleted here.
    left_on = models.DateField(_("left the school"), null=True, blank=True)

    if TYPE_CHECKING:
        groups: ManyRelatedManager[Group, Any]

    class Meta:
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class GuardianshipQuerySet(models.QuerySet):
    def to_inform(self) -> "GuardianshipQuerySet":
        """The guardianships whose guardian the school tells about the pupil: parental
        responsibility, allowed to receive information, an active account, and never a
        restricted guardian of a pupil with a protected address. The one rule for every
        letter, alert and message the school sends a family."""
        return self.filter(
            Q(restricted=False) | Q(pupil__protected_address=False),
            parental_responsibility=True,
            may_receive_information=True,
            guardian__is_active=True,
        )


class Guardianship(models.Model):
    """A guardian's relation to a pupil. Without parental responsibility they see nothing;
    ``restricted`` marks a guardian from whom a protected address must be kept."""

    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("guardian"),
        on_delete=models.CASCADE,
        related_name="guardianships",
    )
    pupil = models.ForeignKey(
        Pupil, verbose_name=_("pupil"), on_delete=models.CASCADE, related_name="guardianships"
    )
    parental_responsibility = models.BooleanField(_("parental responsibility"), default=True)
    lives_with_pupil = models.BooleanField(_("lives with the pupil"), default=True)
    may_receive_information = models.BooleanField(_("may receive information"), default=True)
    restricted = models.BooleanField(
        _("restricted"),
        default=False,
        help_text=_("Never shown a pupil with a protected address."),
    )
    # The last day of a guardianship ended ahead of time; the row goes the day after.
    ends_on = models.DateField(_("last day"), null=True, blank=True)

    objects = GuardianshipQuerySet.as_manager()

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [
            models.UniqueConstraint(fields=["guardian", "pupil"], name="guardianship_unique")
        ]

    def __str__(self) -> str:
        return f"{self.guardian} – {self.pupil}"


class StaffMember(models.Model):
    """A person working at a school, with work contact details (never private ones)."""

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="staff"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_memberships",
    )
    title = models.CharField(_("title"), max_length=60, blank=True)
    work_phone = models.CharField(
        _("work phone"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\+?[0-9 ]{8,15}$", _("Enter a valid phone number."))],
    )
    teams_address = models.EmailField(_("Teams address"), blank=True)
    # The person's Feide user id (eduPersonPrincipalName), how Feide login finds them.
    feide_id = models.CharField(_("Feide id"), max_length=200, blank=True, db_index=True)
    work_start = models.TimeField(
        _("working hours start"),
        null=True,
        blank=True,
        help_text=_("Leave empty to use the school's hours."),
    )
    work_end = models.TimeField(_("working hours end"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], name="staff_member_unique")
        ]

    def __str__(self) -> str:
        return str(self.user)


class StaffRoleQuerySet(models.QuerySet):
    def in_force(self, day: dt.date | None = None) -> "StaffRoleQuerySet":
        """Roles held on ``day`` (today at the school): begun, and not past their last day.
        (A role for a group counts only in the group's school year: ``access``.)"""
        from kontaktbok.core import clock

        day = day or clock.today()
        return self.filter(
            Q(starts_on__isnull=True) | Q(starts_on__lte=day),
            Q(ends_on__isnull=True) | Q(ends_on__gte=day),
        )


class StaffRole(models.Model):
    """A role a staff member holds at the school, or for one group, from ``starts_on`` to
    ``ends_on`` (the last day; a person who leaves loses the role the day after)."""

    class Role(models.TextChoices):
        CONTACT_TEACHER = "contact_teacher", _("contact teacher")
        CLASS_TEAM = "class_team", _("class team")
        TEACHER = "teacher", _("teacher")
        ADVISOR = "advisor", _("advisor")
        SOCIAL_TEACHER = "social_teacher", _("social teacher")
        HEAD_OF_STAGE = "head_of_stage", _("head of stage")
        OFFICE = "office", _("office")
        SFO_LEADER = "sfo_leader", _("SFO leader")
        LEADERSHIP = "leadership", _("leadership")
        SCHOOL_ADMIN = "school_admin", _("school administrator")

    GROUP_ROLES = frozenset({Role.CONTACT_TEACHER, Role.CLASS_TEAM, Role.TEACHER})
    SCHOOL_WIDE_ROLES = frozenset({Role.OFFICE, Role.LEADERSHIP})

    member = models.ForeignKey(
        StaffMember,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="roles",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_roles",
    )
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(
        _("last day"), null=True, blank=True, help_text=_("Empty: until the role is taken away.")
    )

    objects = StaffRoleQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "role", "group"],
                condition=Q(group__isnull=False),
                name="staff_role_group_unique",
            ),
            models.UniqueConstraint(
                fields=["member", "role"],
                condition=Q(group__isnull=True),
                name="staff_role_school_unique",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["contact_teacher", "class_team", "teacher"])
                | Q(group__isnull=False),
                name="group_role_has_group",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="staff_role_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} – {self.get_role_display()}"
