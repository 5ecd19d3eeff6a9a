"""Secure submissions (eDialog): a citizen's document to a unit of the municipality, on its
way to the archive. The content lives encrypted with the archive delivery until the archive
has it; the submission keeps who sent it, where, and the reference the sender was given."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("e-mail")
        # The person gave no address: the receipt page is the receipt.
        NONE = "none", _("no receipt by SMS or e-mail")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    unit = models.ForeignKey(
        "archive.ArchiveUnit", on_delete=models.PROTECT, related_name="submissions"
    )
    delivery = models.OneToOneField(
        "archive.ArchiveDelivery", on_delete=models.PROTECT, related_name="submission"
    )
    as_business = models.BooleanField(default=False)
    organisation_number = models.CharField(max_length=9, blank=True)
    receipt_channel = models.CharField(max_length=5, choices=Channel.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(receipt_channel__in=["sms", "email", "none"]),
                name="submission_receipt_channel_known",
            )
        ]

    def __str__(self) -> str:
        return self.code


class Draft(models.Model):
    """What the person has typed and uploaded, kept between the form, its errors and the
    summary; deleted when sent or after a day."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submission_drafts"
    )
    fields = models.JSONField(default=dict)
    # The comment, encrypted at rest like the files.
    comment = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.uuid)


class DraftFile(models.Model):
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="files")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename
