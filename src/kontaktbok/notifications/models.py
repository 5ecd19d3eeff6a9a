"""The outbox: a notification per recipient, and one delivery row per channel and target.

A delivery is claimed by one worker at a time (status ``sending`` with a lease); the
periodic sweep hands back what a crashed worker left, so nothing is lost.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    PUSH = "push", _("push notification")
    SMS = "sms", _("SMS")


class Notification(models.Model):
    """One thing to tell one person; also their in-app notification."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=60)
    urgent = models.BooleanField(_("urgent"), default=False)
    payload = models.JSONField(_("content"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    dedup_key = models.CharField(max_length=200)
    school_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="notification_dedup_per_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            # Features ask whether a step was already announced to anyone (its dedup key).
            models.Index(fields=["dedup_key"], name="notification_dedup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class Delivery(models.Model):
    """Handing one notification to one channel and target (address, number, device)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        HELD = "held", _("held for the daily digest")
        SENDING = "sending", _("being sent")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    target = models.CharField(_("to"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    due_at = models.DateTimeField(_("due"))
    # Sent with the person's other held e-mail as one daily digest (see ``digest``): a
    # lease that runs out hands it back to the digest, never to a single e-mail.
    in_digest = models.BooleanField(_("in the daily digest"), default=False)
    # When a delivery task was last put on the queue for this row (the sweep re-queues only
    # rows nobody queued, or whose task seems lost).
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    provider_answer = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel", "target"], name="delivery_once_per_target"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "due_at"],
                condition=Q(status__in=["pending", "sending", "held"]),
                name="delivery_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.target} {self.status}"


class PushSubscription(models.Model):
    """One browser or phone that accepts web push for a user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.CharField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    device = models.CharField(_("device"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return self.device or self.endpoint[:40]


class Preference(models.Model):
    """Which channels a user wants for one kind of non-urgent notification."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=60)
    email = models.BooleanField(_("e-mail"), default=True)
    push = models.BooleanField(_("push notification"), default=True)
    sms = models.BooleanField(_("SMS"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class DigestChoice(models.Model):
    """A user who wants non-urgent e-mail once a day instead of one by one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_choice"
    )
    enabled = models.BooleanField(_("daily digest"), default=False)

    def __str__(self) -> str:
        return f"{self.user_id} digest={self.enabled}"


class SinkMessage(models.Model):
    """What would have been sent by e-mail or SMS, kept when no real gateway is set (demo)."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    # The schools whose admin may read it, as ",3,7," (so a plain LIKE finds one).
    schools = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.to}"
