"""Leave (permisjon): the municipality's rules, guardians' applications, the other
guardian's consent, the school's decisions (enkeltvedtak) and appeals."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import Municipality, Pupil, School

APPEAL_DAYS = 21  # forvaltningslova § 29: three weeks


class LeaveRules(models.Model):
    """The municipality's local regulation (forskrift om permisjon) as settings; a row with
    a school overrides the municipality's row for that school."""

    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.CASCADE, related_name="+"
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    contact_teacher_max_days = models.PositiveSmallIntegerField(
        _("the contact teacher decides up to this many school days"),
        default=3,
        validators=[MaxValueValidator(60)],
    )
    principal_max_days = models.PositiveSmallIntegerField(
        _("the principal decides up to this many school days"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(190)],
        help_text=_("Longer leave is also decided by the leadership, with a note."),
    )
    max_days_per_year = models.PositiveSmallIntegerField(
        _("most school days of leave per school year"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(190)],
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("apply at least this many days ahead"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("A later application can still be sent, with a warning."),
    )
    religious_holidays_right = models.BooleanField(
        _("right to leave on religious holidays"),
        default=True,
        help_text=_(
            "Pupils of other faiths have a right to leave on their holy days; these days do "
            "not count against the yearly limit."
        ),
    )
    regulation_name = models.CharField(_("name of the local regulation"), max_length=200)
    regulation_url = models.URLField(_("link to the local regulation"), blank=True)
    rules_text = models.TextField(
        _("the school's leave rules"),
        blank=True,
        help_text=_("Shown on the application form; guardians confirm they have read it."),
    )
    appeal_body = models.CharField(
        _("appeal body"), max_length=200, default="Statsforvaltaren i Vestland"
    )
    updated_at = models.DateTimeField(_("changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("leave rules")
        verbose_name_plural = _("leave rules")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality"],
                condition=Q(school__isnull=True),
                name="leave_rules_one_per_municipality",
            ),
            models.UniqueConstraint(
                fields=["school"],
                condition=Q(school__isnull=False),
                name="leave_rules_one_per_school",
            ),
            models.CheckConstraint(
                condition=Q(contact_teacher_max_days__lte=F("principal_max_days")),
                name="leave_rules_deciders_ordered",
                violation_error_message=_(
                    "The contact teacher cannot decide longer leave than the principal."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.regulation_name


class LeaveApplication(models.Model):
    """A guardian's application for leave for their child."""

    class Category(models.TextChoices):
        TRAVEL = "travel", _("travel or family event")
        RELIGIOUS = "religious", _("religious holiday")
        SPORT_CULTURE = "sport_culture", _("sport or culture")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        AWAITING_CONSENT = "awaiting_consent", _("waiting for the other guardian")
        CONSENT_DECLINED = "consent_declined", _("the other guardian did not agree")
        SUBMITTED = "submitted", _("sent to the school")
        APPROVED = "approved", _("approved")
        PARTLY_APPROVED = "partly_approved", _("partly approved")
        DECLINED = "declined", _("declined")
        APPEAL_PENDING = "appeal_pending", _("appealed, being reconsidered")
        RECONSIDERED = "reconsidered", _("changed after the appeal")
        # The decision stands; the decider sends the case to the appeal body
        # (``Appeal.sent_on_at`` says when they did).
        SENT_TO_STATSFORVALTER = "sent_to_statsforvalter", _("upheld, goes to the appeal body")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Decider(models.TextChoices):
        CONTACT_TEACHER = "contact_teacher", _("the contact teacher")
        LEADERSHIP = "leadership", _("the principal (leadership)")

    OPEN = (Status.AWAITING_CONSENT, Status.SUBMITTED)
    DECIDED = (Status.APPROVED, Status.PARTLY_APPROVED, Status.DECLINED)
    # An application in one of these states blocks another for the same days.
    INACTIVE = (Status.CONSENT_DECLINED, Status.WITHDRAWN, Status.DECLINED)

    pupil = models.ForeignKey(
        Pupil, verbose_name=_("pupil"), on_delete=models.CASCADE, related_name="+"
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.CharField(_("reason"), max_length=20, choices=Category.choices)
    reason = models.TextField(_("about the reason"), max_length=1000)
    learning_plan = models.TextField(_("how the learning is taken care of"), max_length=1000)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    school_days = models.PositiveSmallIntegerField(_("school days"))
    late = models.BooleanField(_("later than the school's lead time"), default=False)
    over_limit = models.BooleanField(_("over the yearly limit"), default=False)
    days_before = models.PositiveSmallIntegerField(
        _("leave days already approved this school year"), default=0
    )
    rules_confirmed = models.BooleanField(_("has read the school's leave rules"), default=False)
    rules_text = models.TextField(_("the leave rules shown"), blank=True)
    status = models.CharField(_("status"), max_length=30, choices=Status.choices)
    decider_role = models.CharField(_("decided by"), max_length=20, choices=Decider.choices)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (NULL: none)
    created_at = models.DateTimeField(_("applied"))
    submitted_at = models.DateTimeField(_("reached the school"), null=True, blank=True)
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("leave application")
        verbose_name_plural = _("leave applications")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lte=F("end_date")), name="leave_dates_ordered"
            ),
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="leave_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["pupil", "start_date", "end_date"]),
            models.Index(fields=["school", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.pupil} {self.start_date}–{self.end_date}"


class Consent(models.Model):
    """The other guardian's answer: both guardians with parental responsibility must agree."""

    class Status(models.TextChoices):
        PENDING = "pending", _("not answered yet")
        AGREED = "agreed", _("agreed")
        DECLINED = "declined", _("did not agree")
        RECORDED_BY_SCHOOL = "recorded_by_school", _("consent given to the school")

    application = models.ForeignKey(
        LeaveApplication, on_delete=models.CASCADE, related_name="consents"
    )
    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("guardian"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("answer"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "guardian"], name="leave_consent_per_guardian"
            )
        ]

    def __str__(self) -> str:
        return f"{self.guardian} – {self.status}"


class Decision(models.Model):
    """An individual decision (enkeltvedtak) on an application, with its letter."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("approved")
        PARTLY_APPROVED = "partly_approved", _("partly approved")
        DECLINED = "declined", _("declined")

    application = models.ForeignKey(
        LeaveApplication, on_delete=models.CASCADE, related_name="decisions"
    )
    outcome = models.CharField(_("decision"), max_length=20, choices=Outcome.choices)
    approved_start = models.DateField(_("leave from"), null=True, blank=True)
    approved_end = models.DateField(_("leave to"), null=True, blank=True)
    approved_days = models.PositiveSmallIntegerField(_("school days approved"), default=0)
    reasons = models.TextField(_("reasons"), max_length=4000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caseworker"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_name = models.CharField(_("caseworker"), max_length=200)
    decided_by_role = models.CharField(_("caseworker's role"), max_length=100)
    # The role code the decision was made in (for the audit log when the letter is made).
    decided_as = models.CharField(_("role"), max_length=30, blank=True)
    decided_at = models.DateTimeField(_("decided"))
    appeal_deadline = models.DateField(_("appeal by"))
    on_appeal = models.BooleanField(_("made on appeal"), default=False)
    letter = models.BinaryField(_("decision letter (PDF)"), editable=False)

    class Meta:
        verbose_name = _("leave decision")
        verbose_name_plural = _("leave decisions")
        ordering = ["decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="declined")
                | Q(
                    approved_start__isnull=False,
                    approved_end__isnull=False,
                    approved_start__lte=F("approved_end"),
                ),
                name="leave_decision_dates",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.outcome}"


class Appeal(models.Model):
    """A guardian's appeal (klage); the decider reconsiders it, and if the decision stands,
    the decider sends the case (``case_pdf``) on to the appeal body and records when."""

    class Outcome(models.TextChoices):
        CHANGED = "changed", _("the decision was changed")
        UPHELD = "upheld", _("the decision stands; the appeal goes to the appeal body")

    application = models.OneToOneField(
        LeaveApplication, on_delete=models.CASCADE, related_name="appeal"
    )
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="+")
    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("appealed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("the appeal"), max_length=4000)
    created_at = models.DateTimeField(_("appealed"))
    # Sent after the three weeks: received all the same, for the decider to consider
    # whether to deal with it (forvaltningslova § 31).
    late = models.BooleanField(_("after the appeal deadline"), default=False)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    reconsidered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reconsidered_at = models.DateTimeField(_("reconsidered"), null=True, blank=True)
    note = models.TextField(_("the school's assessment"), blank=True, max_length=4000)
    # Recorded by the decider when they have sent the case to the appeal body.
    sent_on_at = models.DateTimeField(_("sent to the appeal body"), null=True, blank=True)
    sent_on_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent on by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    case_pdf = models.BinaryField(_("the case (PDF)"), null=True, editable=False)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")

    def __str__(self) -> str:
        return f"{self.application} appeal"
