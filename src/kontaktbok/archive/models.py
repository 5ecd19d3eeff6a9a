"""Archive units and deliveries to the municipality's archive (Fiks IO / Fiks Arkiv)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import Municipality, School


class ArchiveUnit(models.Model):
    """A unit of the municipality that receives documents in its archive (the school, PPT,
    the school health service, the school office), with its own archive settings."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="archive_units"
    )
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="archive_units",
        help_text=_("Set for a unit the school's admin looks after."),
    )
    name = models.CharField(_("name"), max_length=120)
    fiks_account_id = models.UUIDField(
        _("the archive's Fiks IO account"),
        help_text=_("The Fiks IO account (konto-id) of the archive that files for this unit."),
    )
    archive_certificate = models.TextField(
        _("the archive's certificate (PEM)"),
        help_text=_("Submissions are encrypted for this certificate. Get it from the archive."),
    )
    administrative_unit = models.CharField(
        _("administrative unit in the archive"), max_length=120, blank=True
    )
    confidential = models.BooleanField(
        _("confidential (skjerming)"),
        default=False,
        help_text=_("Entries for this unit are screened from public access in the archive."),
    )
    access_code = models.CharField(_("access restriction code"), max_length=20, default="13")
    screening_authority = models.CharField(
        _("legal basis for screening"), max_length=200, default="Offl. § 13 jf. fvl. § 13"
    )
    office_documents = models.BooleanField(_("accepts office documents (DOCX, ODT)"), default=True)
    responsible_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="archive_units",
        verbose_name=_("responsible staff"),
        help_text=_("Told when a delivery to the archive fails."),
    )
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("archive unit")
        verbose_name_plural = _("archive units")

    def __str__(self) -> str:
        return self.name


class FiksClient(models.Model):
    """A municipality's own Fiks IO client: the account kontaktbok sends from and reads the
    archive's answers on, its integration, its Maskinporten client, and the
    virksomhetssertifikat that signs what goes out and opens what comes back. Without one
    the installation's settings (``FIKS_IO_ACCOUNT_ID`` …) serve the municipality."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.PROTECT, related_name="fiks_client"
    )
    account_id = models.UUIDField(_("our Fiks IO account"), unique=True)
    integration_id = models.CharField(_("integration id"), max_length=100)
    # The integration password and the signing key (PEM), sealed at rest like attachments.
    integration_password = models.BinaryField()
    signing_key = models.BinaryField()
    certificate = models.TextField(_("our certificate (PEM)"))
    maskinporten_client_id = models.CharField(_("Maskinporten client id"), max_length=100)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Fiks IO client")
        verbose_name_plural = _("Fiks IO clients")

    def __str__(self) -> str:
        return str(self.account_id)


class ArchiveDelivery(models.Model):
    """One document (with attachments) on its way to, or filed in, the archive.

    ``client_message_id`` is fixed when the row is made and sent on every try, so the
    archive treats a re-send as the same message; ``external_key`` is the archive's
    duplicate key (referanseEksternNoekkel) and makes a second request for the same thing
    return the same row."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        RECEIVED = "received", _("received by the archive")
        ARCHIVED = "archived", _("registered in the archive")
        FAILED = "failed", _("failed")

    class SenderKind(models.TextChoices):
        PERSON = "person", _("private person")
        ORGANISATION = "organisation", _("business")

    client_message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_key = models.CharField(max_length=200, unique=True)
    unit = models.ForeignKey(ArchiveUnit, on_delete=models.PROTECT, related_name="deliveries")
    source = models.CharField(max_length=60, blank=True)
    # Screened in the archive whatever the unit's setting (a relay log, a pupil's year).
    confidential = models.BooleanField(default=False)
    title = models.CharField(max_length=1000)
    sender_kind = models.CharField(max_length=12, choices=SenderKind.choices)
    sender_name = models.CharField(max_length=200)
    # The identity number or organisation number, encrypted; deleted with the content.
    sender_identifier = models.BinaryField(null=True, blank=True)
    sender_email = models.CharField(max_length=254, blank=True)
    sender_phone = models.CharField(max_length=20, blank=True)
    case_year = models.PositiveIntegerField(null=True, blank=True)
    case_sequence = models.PositiveIntegerField(null=True, blank=True)
    document_date = models.DateTimeField()
    notify_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Told when the archive has registered the document.",
    )
    # The short reference the sender was given (e.g. KB-7Q4M-2C), repeated in the notice.
    sender_reference = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    journal_year = models.PositiveIntegerField(null=True, blank=True)
    journal_sequence = models.PositiveIntegerField(null=True, blank=True)
    journal_post_number = models.PositiveIntegerField(null=True, blank=True)
    journal_reference = models.CharField(max_length=40, blank=True)
    receipt_xml = models.TextField(blank=True)
    content_deleted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="archive_delivery_queued",
                condition=models.Q(state="queued"),
            ),
            models.Index(fields=["state", "created_at"], name="archive_delivery_state"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.state})"

    @property
    def case_number(self) -> str:
        if self.case_year is None:
            return ""
        return f"{self.case_year}/{self.case_sequence}"


class ArchiveDocument(models.Model):
    """A file of a delivery, encrypted at rest until the content is deleted."""

    class Role(models.TextChoices):
        MAIN = "H", _("main document")
        ATTACHMENT = "V", _("attachment")

    delivery = models.ForeignKey(
        ArchiveDelivery, on_delete=models.CASCADE, related_name="documents"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=1, choices=Role.choices)
    title = models.CharField(max_length=500)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="archive_document_number")
        ]

    def __str__(self) -> str:
        return self.filename


class FiksMessage(models.Model):
    """A Fiks IO message id we got for a send of a delivery: the archive answers to it."""

    delivery = models.ForeignKey(ArchiveDelivery, on_delete=models.CASCADE, related_name="messages")
    message_id = models.UUIDField(unique=True)
    # Our account it went from: the archive's answers to it count only when they arrive there.
    account_id = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at"]

    def __str__(self) -> str:
        return str(self.message_id)


class ArchiveAnswer(models.Model):
    """An answer from the archive as it came (type and payload), for the admin's check."""

    delivery = models.ForeignKey(
        ArchiveDelivery, on_delete=models.CASCADE, related_name="answers", null=True
    )
    message_id = models.UUIDField(unique=True)
    message_type = models.CharField(max_length=120)
    sender_account = models.UUIDField(null=True, blank=True)
    in_reply_to = models.UUIDField(null=True, blank=True)
    # Our account whose queue it came on.
    received_on = models.UUIDField(null=True, blank=True)
    payload = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at"]

    def __str__(self) -> str:
        return self.message_type
