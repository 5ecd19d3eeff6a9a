"""Writing to the outbox. ``notify`` is called inside the caller's transaction."""

import datetime as dt
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.notifications import kinds, timing
from kontaktbok.notifications.models import (
    Channel,
    Delivery,
    DigestChoice,
    Notification,
    Preference,
    PushSubscription,
)
from kontaktbok.notifications.selectors import channels_for
from kontaktbok.schools.selectors import staff_working_hours


def _targets(recipient: Any, channels: set[str]) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    if Channel.EMAIL in channels and recipient.email:
        targets.append((Channel.EMAIL, recipient.email))
    if Channel.SMS in channels and recipient.phone:
        targets.append((Channel.SMS, recipient.phone))
    if Channel.PUSH in channels:
        targets += [
            (Channel.PUSH, str(pk))
            for pk in PushSubscription.objects.filter(user=recipient).values_list("pk", flat=True)
        ]
    return targets


def notify(
    *,
    recipient: Any,
    kind: str,
    dedup_key: str,
    payload: dict[str, Any] | None = None,
    url: str = "",
    school_id: int | None = None,
) -> Notification:
    """Put a notification in the outbox, at most once per recipient and ``dedup_key``.

    Urgent kinds go out at once on every channel the person has; others follow the
    person's preferences, the sending window, staff working hours and the daily digest.
    Delivery starts after the caller's transaction commits.
    """
    spec = kinds.get(kind)
    now = clock.now()
    with transaction.atomic():
        existing = Notification.objects.filter(recipient=recipient, dedup_key=dedup_key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient,
                    kind=kind,
                    urgent=spec.urgent,
                    payload=payload or {},
                    url=url,
                    dedup_key=dedup_key,
                    school_id=school_id,
                    created_at=now,
                )
        except IntegrityError:
            return Notification.objects.get(recipient=recipient, dedup_key=dedup_key)
        due = now
        digest = False
        if not spec.urgent and spec.scheduled:
            due = timing.first_allowed(now, working_hours=staff_working_hours(user=recipient))
            digest = DigestChoice.objects.filter(user=recipient, enabled=True).exists()
        deliveries: list[Delivery] = []
        for channel, target in _targets(recipient, channels_for(recipient=recipient, spec=spec)):
            held = digest and channel == Channel.EMAIL
            deliveries.append(
                Delivery(
                    notification=notification,
                    channel=channel,
                    target=target,
                    status=Delivery.Status.HELD if held else Delivery.Status.PENDING,
                    due_at=timing.next_digest_time(now) if held else due,
                    queued_at=now if not held and due <= now else None,
                )
            )
        Delivery.objects.bulk_create(deliveries)
        audit_log(
            actor=None,
            action="notifications.notification.queued",
            obj=notification,
            school_id=school_id,
            detail={
                "kind": kind,
                "urgent": spec.urgent,
                "channels": sorted({d.channel for d in deliveries}),
            },
        )
        due_now = [
            d.pk for d in deliveries if d.status == Delivery.Status.PENDING and d.due_at <= now
        ]
        if due_now:
            from kontaktbok.notifications.tasks import deliver

            transaction.on_commit(lambda: [deliver.enqueue(pk) for pk in due_now])
    return notification


def notification_mark_read(*, actor: Any, notification: Notification) -> None:
    if notification.recipient_id != actor.pk:
        raise PermissionError
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=clock.now()
        )


def notifications_mark_all_read(*, actor: Any) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=clock.now()
    )


def preferences_save(*, actor: Any, choices: dict[str, set[str]], digest: bool) -> None:
    """Save the user's channels per non-urgent kind, and the daily digest choice."""
    with transaction.atomic():
        for code, channels in choices.items():
            if kinds.get(code).urgent:
                raise ValueError("urgent notifications cannot be switched off")
            Preference.objects.update_or_create(
                user=actor,
                kind=code,
                defaults={c: c in channels for c in Channel.values},
            )
        DigestChoice.objects.update_or_create(user=actor, defaults={"enabled": digest})
        audit_log(
            actor=actor,
            action="notifications.preferences.updated",
            detail={"kinds": sorted(choices), "digest": digest},
        )


def push_subscription_save(
    *, actor: Any, endpoint: str, p256dh: str, auth: str, device: str = ""
) -> PushSubscription:
    """Register this device for push. An endpoint belongs to one user only: when another
    user turns push on for the same device, it becomes a new subscription, so nothing still
    queued for the first user can reach it."""
    check_push_endpoint(endpoint)
    with transaction.atomic():
        PushSubscription.objects.filter(endpoint=endpoint).exclude(user=actor).delete()
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            user=actor,
            defaults={
                "p256dh": p256dh,
                "auth": auth,
                "device": device[:200],
                "created_at": timezone.now(),
            },
        )
        audit_log(actor=actor, action="notifications.push.subscribed", obj=subscription)
    return subscription


def check_push_endpoint(endpoint: str) -> None:
    """Push endpoints are HTTPS addresses of a public push service; the server must never be
    made to post to itself or to the internal network (server-side request forgery)."""
    if settings.PUSH_ALLOW_LOCAL_ENDPOINTS:
        return
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError(_("A push address must use https."))
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, 443)}
    except OSError:
        raise ValidationError(_("The push address cannot be reached.")) from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise ValidationError(_("The push address cannot be reached."))


def push_subscription_delete(*, actor: Any, endpoint: str) -> bool:
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(user=actor, endpoint=endpoint).delete()
        if deleted:
            audit_log(actor=actor, action="notifications.push.unsubscribed")
    return bool(deleted)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try: 30 s, 2 min, 8 min, 32 min, ..."""
    return dt.timedelta(seconds=30 * 4 ** max(attempts - 1, 0))
