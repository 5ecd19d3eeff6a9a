"""Messages (meldingar): threads about one child, their participants and read status,
messages, encrypted attachments, messages to groups, and each school's settings.

Messages are kept: nobody deletes them (a user archives a thread in their own view); how
long they are kept is a school setting for a later issue.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import Group, Pupil, School

# The range of a school's attachment size limit.
MIN_ATTACHMENT_MB = 1
MAX_ATTACHMENT_MB = 25


class MessagingSettings(models.Model):
    """What a school decides about messages: which other roles guardians may write to
    (the contact teacher, kontor and leiing always), and the attachment size limit."""

    school = models.OneToOneField(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+"
    )
    guardian_roles = models.JSONField(_("other roles guardians may write to"), default=list)
    max_attachment_mb = models.PositiveSmallIntegerField(
        _("largest attachment (MB)"),
        default=10,
        validators=[MinValueValidator(MIN_ATTACHMENT_MB), MaxValueValidator(MAX_ATTACHMENT_MB)],
    )

    class Meta:
        verbose_name = _("message settings")
        verbose_name_plural = _("message settings")

    def __str__(self) -> str:
        return str(self.school)


class Broadcast(models.Model):
    """A message from staff to all guardians of one or more groups. It creates one thread
    per family, so that replies stay between that family and the staff."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    groups = models.ManyToManyField(Group, related_name="+")
    subject = models.CharField(_("subject"), max_length=120)
    family_count = models.PositiveIntegerField(_("families"))
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (NULL: none)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("message to groups")
        verbose_name_plural = _("messages to groups")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="broadcast_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class Thread(models.Model):
    """A conversation about one pupil between (some of) the family and staff."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    pupil = models.ForeignKey(
        Pupil, verbose_name=_("pupil"), on_delete=models.PROTECT, related_name="+"
    )
    broadcast = models.ForeignKey(
        Broadcast, null=True, blank=True, on_delete=models.PROTECT, related_name="threads"
    )
    subject = models.CharField(_("subject"), max_length=120)
    sensitive = models.BooleanField(_("sensitive"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField()

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")
        indexes = [models.Index(fields=["school", "pupil"])]

    def __str__(self) -> str:
        return self.subject


class Participant(models.Model):
    """A person on a thread, with their own read mark and archive choice."""

    class Side(models.TextChoices):
        GUARDIAN = "guardian", _("guardian")
        STAFF = "staff", _("staff")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    # A StaffRole.Role value for staff ('contact_teacher', 'office', ...), 'guardian' else.
    role = models.CharField(max_length=20)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField()
    last_read_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="participant_unique")
        ]
        indexes = [models.Index(fields=["user", "archived_at"])]

    def __str__(self) -> str:
        return f"{self.user} – {self.thread}"


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("message"))
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (NULL: none)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_idempotency_key_unique",
            )
        ]
        indexes = [models.Index(fields=["thread", "created_at"])]

    def __str__(self) -> str:
        return f"{self.thread}: {self.created_at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A file on a message. The type is the one found in the content; the bytes are kept
    encrypted (AES-GCM) in ``AttachmentContent``."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class AttachmentContent(models.Model):
    """The encrypted bytes, apart from the metadata so that lists never load them."""

    attachment = models.OneToOneField(
        Attachment, primary_key=True, on_delete=models.CASCADE, related_name="content"
    )
    ciphertext = models.BinaryField()

    def __str__(self) -> str:
        return str(self.attachment)
