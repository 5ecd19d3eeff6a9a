"""A person's copy of what kontaktbok stores about them and their children (GDPR Art. 15):
one request, built by a worker into a ZIP kept encrypted for a week."""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# How long a finished copy is offered for download; then its file is deleted.
OFFERED_FOR = dt.timedelta(days=7)


class DataExport(models.Model):
    """One request for a copy of one's data, and the finished ZIP's particulars. At most
    one request per person is being built at a time."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="data_exports",
    )
    # Binds the encrypted file to this row (the key's associated data).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    language = models.CharField(_("language"), max_length=2)
    requested_at = models.DateTimeField(_("requested"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Last put on the queue or taken by a worker (a request left there too long is queued
    # again by the periodic sweep).
    queued_at = models.DateTimeField(_("last queued"))
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    expires_at = models.DateTimeField(_("offered until"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("last downloaded"), null=True, blank=True)
    # When the file was deleted after its week (the row stays as the record of the request).
    deleted_at = models.DateTimeField(_("file deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="queued"),
                name="privacy_one_queued_export_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready")
                | Q(ready_at__isnull=False, expires_at__isnull=False, size__isnull=False),
                name="privacy_ready_export_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "-requested_at"]),
            models.Index(
                fields=["expires_at"],
                condition=Q(status="ready", deleted_at__isnull=True),
                name="privacy_export_to_delete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.requested_at:%Y-%m-%d %H:%M} {self.status}"


class DataExportFile(models.Model):
    """The ZIP, encrypted (AES-GCM, the attachments' key), apart from the request so that
    lists never load it."""

    export = models.OneToOneField(
        DataExport, primary_key=True, on_delete=models.CASCADE, related_name="file"
    )
    ciphertext = models.BinaryField()

    def __str__(self) -> str:
        return str(self.export)


class RetentionChoice(models.Model):
    """The number of days the municipality has chosen for a retention rule (within the
    rule's bounds; see ``privacy.retention``)."""

    code = models.CharField(_("rule"), max_length=30, unique=True)
    days = models.PositiveIntegerField(_("days"))
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chosen by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    chosen_at = models.DateTimeField(_("chosen"))

    class Meta:
        verbose_name = _("retention choice")
        verbose_name_plural = _("retention choices")

    def __str__(self) -> str:
        return f"{self.code}: {self.days}"


class LegalHold(models.Model):
    """While a hold lasts, the retention rules delete nothing of the pupil."""

    pupil = models.ForeignKey(
        "schools.Pupil",
        verbose_name=_("pupil"),
        on_delete=models.CASCADE,
        related_name="legal_holds",
    )
    reason = models.CharField(_("reason"), max_length=300)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.UniqueConstraint(
                fields=["pupil"],
                condition=Q(lifted_at__isnull=True),
                name="legal_hold_one_open_per_pupil",
            )
        ]

    def __str__(self) -> str:
        return self.reason


class YearRecord(models.Model):
    """A pupil's year-end document in the archive's pupil folder (elevmappe): the
    attendance and absence of one school year at one school, with the leave decisions of
    that year. The year's marks and leave cases are deleted only once the archive's
    receipt for it is stored (``archived_at``)."""

    pupil = models.ForeignKey(
        "schools.Pupil", verbose_name=_("pupil"), on_delete=models.CASCADE, related_name="+"
    )
    school_year = models.ForeignKey(
        "schools.SchoolYear",
        verbose_name=_("school year"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    delivery = models.OneToOneField(
        "archive.ArchiveDelivery",
        verbose_name=_("delivery to the archive"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("handed to the archive"))
    archived_at = models.DateTimeField(_("archive's receipt stored"), null=True, blank=True)
    reference = models.CharField(_("archive reference"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("year-end document (elevmappe)")
        verbose_name_plural = _("year-end documents (elevmappe)")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "school_year"], name="privacy_one_year_record_per_pupil_year"
            )
        ]
        indexes = [
            models.Index(
                fields=["pupil", "school_year"],
                condition=Q(archived_at__isnull=False),
                name="privacy_year_record_archived",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pupil_id} {self.school_year_id}"
