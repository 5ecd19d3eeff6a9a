"""The relay log (stafettlogg, BTI): close cooperation for one pupil between home, school
and other services, with consents, a baton holder (stafetthaldar), an action plan
(handlingsplan) and append-only entries."""

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import Municipality, Pupil, School


class RelayLogSettings(models.Model):
    """The municipality's rules for relay logs."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="relaylog_settings"
    )
    consent_age = models.PositiveSmallIntegerField(
        _("the pupil consents from this age"),
        default=15,
        validators=[MinValueValidator(12), MaxValueValidator(18)],
    )

    class Meta:
        verbose_name = _("relay log settings")
        verbose_name_plural = _("relay log settings")

    def __str__(self) -> str:
        return str(self.municipality)


class RelayLogCreator(models.Model):
    """A staff member whom the leadership allows to open relay logs at the school."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    allowed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], name="relaylog_creator_unique")
        ]

    def __str__(self) -> str:
        return str(self.user)


class RelayLog(models.Model):
    """One pupil's relay log."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft, waiting for consent")
        ACTIVE = "active", _("active")
        CLOSED = "closed", _("closed")

    class Archive(models.TextChoices):
        NONE = "", _("not closed")
        WAITING = "waiting", _("closed, waiting for the archive")
        RECEIVED = "received", _("archived")

    class CloseReason(models.TextChoices):
        GOALS_MET = "goals_met", _("the goals are met")
        GUARDIANS = "guardians", _("the guardians asked to close it")
        INDIVIDUAL_PLAN = "individual_plan", _("the pupil has an individual plan")
        MOVED = "moved", _("the pupil has moved")
        OTHER = "other", _("other")

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    concern = models.TextField(_("concern"))
    level = models.PositiveSmallIntegerField(
        _("level"), validators=[MinValueValidator(0), MaxValueValidator(3)]
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    # Level 0: the holder decides within 14 days whether to go on (BTI).
    decide_by = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    archive_state = models.CharField(
        max_length=10, choices=Archive.choices, default=Archive.NONE, blank=True
    )
    # The id the archive delivery is sent with, the same on every retry.
    archive_message_id = models.UUIDField(null=True, blank=True)
    archive_receipt = models.CharField(max_length=200, blank=True)
    archive_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=0) & Q(level__lte=3), name="relaylog_level_0_3"
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_at__isnull=False),
                name="relaylog_closed_has_time",
            ),
        ]

    # Who must consent (access.consent_facts), read once per request; never stored.
    consent_facts: Any = None

    def __str__(self) -> str:
        return f"{self.pupil} ({self.pk})"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.CLOSED


class Participant(models.Model):
    """Someone taking part in a log: a guardian, the pupil (from the consent age), school
    staff, or a person from another service, who reads only with a consent naming it."""

    class Kind(models.TextChoices):
        GUARDIAN = "guardian", _("guardian")
        PUPIL = "pupil", _("pupil")
        STAFF = "staff", _("school staff")
        SERVICE = "service", _("other service")

    log = models.ForeignKey(RelayLog, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The service a person from outside the school represents (helsesjukepleiar, PPT, ...).
    service = models.CharField(_("service"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["log", "user"],
                condition=Q(removed_at__isnull=True),
                name="relaylog_participant_once",
            ),
            models.CheckConstraint(
                condition=~Q(kind="service") | ~Q(service=""),
                name="relaylog_service_participant_names_service",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)


class JoinLink(models.Model):
    """The link a person from another service, or the pupil, gets when invited: opened once,
    with an ID-porten login, it binds the participation to that person's identity. Only
    the token's digest is kept; it is used once and expires."""

    VALID_FOR = dt.timedelta(days=7)

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"))
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.participant} {self.sent_at:%Y-%m-%d}"


class Attachment(models.Model):
    """A file in a log (an entry's attachment or a scanned paper consent); the bytes are
    encrypted at rest like the messages' attachments."""

    log = models.ForeignKey(RelayLog, on_delete=models.CASCADE, related_name="attachments")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    ciphertext = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class Consent(models.Model):
    """A consent given by a guardian with parental responsibility or the pupil: to the log
    itself (``service`` empty) or to one named service joining it. Digital (the person
    confirmed the text in their language) or on paper (recorded by staff, the scanned form
    attached). Withdrawn, it stops counting at once."""

    class By(models.TextChoices):
        GUARDIAN = "guardian", _("guardian")
        PUPIL = "pupil", _("pupil")

    class Method(models.TextChoices):
        DIGITAL = "digital", _("digitally")
        PAPER = "paper", _("on paper")

    log = models.ForeignKey(RelayLog, on_delete=models.CASCADE, related_name="consents")
    given_by_kind = models.CharField(max_length=10, choices=By.choices)
    # The guardian, or the pupil's account; empty for a pupil's paper consent without one.
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    given_by_name = models.CharField(max_length=200)
    service = models.CharField(_("service"), max_length=100, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices)
    language = models.CharField(max_length=5)
    text = models.TextField()  # the consent text as shown and confirmed
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scanned_form = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["given_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="paper") | Q(scanned_form__isnull=False),
                name="relaylog_paper_consent_has_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_by_name}: {self.service or '-'}"


class Handover(models.Model):
    """The baton: a handover is a request until the next holder accepts it. The first
    holder is recorded as an accepted handover from nobody, so the rows are the history."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("waiting for acceptance")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        CANCELLED = "cancelled", _("cancelled")

    log = models.ForeignKey(RelayLog, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["log"],
                condition=Q(state="requested"),
                name="relaylog_one_open_handover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"


class Goal(models.Model):
    """A goal of the action plan (handlingsplan)."""

    log = models.ForeignKey(RelayLog, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField(_("goal"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class Measure(models.Model):
    """A measure (tiltak) towards a goal: who is responsible, the deadline, when to
    evaluate."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="measures")
    text = models.TextField(_("measure"))
    responsible = models.CharField(_("responsible"), max_length=200)
    deadline = models.DateField(_("deadline"))
    evaluate_on = models.DateField(_("evaluation date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class Evaluation(models.Model):
    """An evaluation recorded against a measure."""

    class Outcome(models.TextChoices):
        CONTINUE = "continue", _("continue")
        CHANGE = "change", _("change the measure")
        DONE = "done", _("done, the goal is reached")
        OTHER_SERVICES = "other_services", _("bring in other services")

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="evaluations")
    text = models.TextField(_("evaluation"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    next_evaluation_on = models.DateField(_("next evaluation"), null=True, blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class AppendOnlyQuerySet(models.QuerySet):
    """Entries are never changed or deleted in bulk either."""

    def update(self, **kwargs: object) -> int:
        raise TypeError("relay log entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("relay log entries are append-only")


class Entry(models.Model):
    """A log entry: dated, by whom, in which role. Append-only: a correction is a new
    entry pointing to the one it corrects."""

    log = models.ForeignKey(RelayLog, on_delete=models.CASCADE, related_name="entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    author_role = models.CharField(max_length=100)
    body = models.TextField(_("entry"))
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="corrections"
    )
    attachment = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author_name} {self.created_at:%Y-%m-%d}"


class ClosedDocument(models.Model):
    """The whole closed log as one PDF/A, encrypted at rest, for the archive."""

    log = models.OneToOneField(RelayLog, on_delete=models.CASCADE, related_name="document")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.log} PDF"
