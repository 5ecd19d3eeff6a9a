"""Writing to the outbox. ``notify`` is called inside the caller's transaction."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.notifications import kinds, push_services, timing
from kontaktbok.notifications.models import (
    Channel,
    Delivery,
    DigestChoice,
    Notification,
    Preference,
    PushSubscription,
)
from kontaktbok.notifications.selectors import chosen_channels
from kontaktbok.schools.selectors import staff_working_hours_of


@dataclass(frozen=True)
class Outgoing:
    """One notification to write: to whom, its dedup key, its payload and its link.

    ``to`` ({channel: address}) sends it to addresses the person gave for this one thing
    (a receipt to the mobile typed on a form) instead of the account's, whatever their
    preferences; ``{}`` keeps it in the app only. ``None``: the account's channels."""

    recipient: Any
    dedup_key: str
    payload: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    to: dict[str, str] | None = None


def _targets(recipient: Any, channels: set[str], push: list[int]) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    if Channel.EMAIL in channels and recipient.email:
        targets.append((Channel.EMAIL, recipient.email))
    if Channel.SMS in channels and recipient.phone:
        targets.append((Channel.SMS, recipient.phone))
    if Channel.PUSH in channels:
        targets += [(Channel.PUSH, str(pk)) for pk in push]
    return targets


def notify(
    *,
    recipient: Any,
    kind: str,
    dedup_key: str,
    payload: dict[str, Any] | None = None,
    url: str = "",
    school_id: int | None = None,
    to: dict[str, str] | None = None,
) -> Notification:
    """Put a notification in the outbox, at most once per recipient and ``dedup_key``;
    see ``notify_many`` (and ``Outgoing`` for ``to``)."""
    item = Outgoing(recipient=recipient, dedup_key=dedup_key, payload=payload or {}, url=url, to=to)
    [notification] = notify_many(kind=kind, items=[item], school_id=school_id)
    return notification


def notify_many(
    *, kind: str, items: Sequence[Outgoing], school_id: int | None = None
) -> list[Notification]:
    """Put notifications of one kind in the outbox, at most once per recipient and dedup
    key, in a fixed number of queries however many there are; returns them in the order
    of ``items`` (one already written is returned as it was).

    Urgent kinds go out at once on every channel the person has; others follow the
    person's preferences, the sending window, staff working hours and the daily digest.
    Delivery starts after the caller's transaction commits.
    """
    spec = kinds.get(kind)
    now = clock.now()
    if not items:
        return []
    with transaction.atomic():
        done = {
            (n.recipient_id, n.dedup_key): n
            for n in Notification.objects.filter(
                recipient_id__in={item.recipient.pk for item in items},
                dedup_key__in={item.dedup_key for item in items},
            )
        }
        fresh: dict[tuple[int, str], Outgoing] = {}
        for item in items:
            key = (item.recipient.pk, item.dedup_key)
            if key not in done:
                fresh.setdefault(key, item)
        if fresh:
            try:
                with transaction.atomic():
                    created = _write(spec, list(fresh.values()), school_id, now)
            except IntegrityError:
                # Another process wrote some of them a moment ago: take them one by one.
                if len(fresh) > 1:
                    return [
                        notify_many(kind=kind, items=[item], school_id=school_id)[0]
                        for item in items
                    ]
                [(recipient_id, dedup_key)] = fresh
                return [Notification.objects.get(recipient_id=recipient_id, dedup_key=dedup_key)]
            done.update({(n.recipient_id, n.dedup_key): n for n in created})
    return [done[(item.recipient.pk, item.dedup_key)] for item in items]


def _write(
    spec: kinds.Kind, items: list[Outgoing], school_id: int | None, now: dt.datetime
) -> list[Notification]:
    """Write the notifications and their deliveries (one row per channel and target) and
    queue what is due now; a few queries whatever the number of items."""
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=item.recipient,
                kind=spec.code,
                urgent=spec.urgent,
                payload=item.payload,
                url=item.url,
                dedup_key=item.dedup_key,
                school_id=school_id,
                created_at=now,
            )
            for item in items
        ]
    )
    user_ids = {item.recipient.pk for item in items}
    preferences = (
        {}
        if spec.urgent
        else {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids, kind=spec.code)}
    )
    scheduled = not spec.urgent and spec.scheduled
    hours = staff_working_hours_of(user_ids) if scheduled else {}
    digests = (
        set(
            DigestChoice.objects.filter(user_id__in=user_ids, enabled=True).values_list(
                "user_id", flat=True
            )
        )
        if scheduled
        else set()
    )
    push: dict[int, list[int]] = {}
    subscriptions = PushSubscription.objects.filter(user_id__in=user_ids).order_by("pk")
    for user_id, pk in subscriptions.values_list("user_id", "pk"):
        push.setdefault(user_id, []).append(pk)
    deliveries: list[Delivery] = []
    for notification, item in zip(notifications, items, strict=True):
        user_id = item.recipient.pk
        due = now
        if scheduled:
            due = timing.first_allowed(now, working_hours=hours.get(user_id))
        if item.to is not None:
            if set(item.to) - {Channel.EMAIL, Channel.SMS}:
                raise ValueError("notifications go to given addresses by e-mail or SMS only")
            targets = [(channel, address) for channel, address in item.to.items() if address]
        else:
            channels = chosen_channels(spec, preferences.get(user_id))
            targets = _targets(item.recipient, channels, push.get(user_id, []))
        for channel, target in targets:
            held = item.to is None and user_id in digests and channel == Channel.EMAIL
            deliveries.append(
                Delivery(
                    notification=notification,
                    channel=channel,
                    target=target,
                    status=Delivery.Status.HELD if held else Delivery.Status.PENDING,
                    in_digest=held,
                    due_at=timing.next_digest_time(now) if held else due,
                    queued_at=now if not held and due <= now else None,
                )
            )
    Delivery.objects.bulk_create(deliveries)
    by_notification: dict[int, set[str]] = {}
    for delivery in deliveries:
        by_notification.setdefault(delivery.notification_id, set()).add(delivery.channel)
    audit_log_many(
        *(
            {
                "actor": None,
                "action": "notifications.notification.queued",
                "obj": notification,
                "school_id": school_id,
                "detail": {
                    "kind": spec.code,
                    "urgent": spec.urgent,
                    "channels": sorted(by_notification.get(notification.pk, set())),
                },
            }
            for notification in notifications
        )
    )
    due_now = [d.pk for d in deliveries if d.status == Delivery.Status.PENDING and d.due_at <= now]
    if due_now:
        from kontaktbok.notifications.tasks import deliver

        transaction.on_commit(lambda: [deliver.enqueue(pk) for pk in due_now])
    return notifications


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
    if any(kinds.get(code).urgent for code in choices):
        raise ValueError("urgent notifications cannot be switched off")
    with transaction.atomic():
        saved = {p.kind: p for p in Preference.objects.filter(user=actor, kind__in=choices)}
        new: list[Preference] = []
        changed: list[Preference] = []
        for code, channels in choices.items():
            preference = saved.get(code) or Preference(user=actor, kind=code)
            before = [getattr(preference, c) for c in Channel.values]
            for channel in Channel.values:
                setattr(preference, channel, channel in channels)
            if preference.pk is None:
                new.append(preference)
            elif before != [getattr(preference, c) for c in Channel.values]:
                changed.append(preference)
        Preference.objects.bulk_create(new)
        Preference.objects.bulk_update(changed, Channel.values)
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
    """A push address must be one of the browsers' push services."""
    if not push_services.is_push_service(endpoint):
        raise ValidationError(
            _("This is not the address of a known push service. Turn push on again.")
        )


def push_subscription_delete(*, actor: Any, endpoint: str) -> bool:
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(user=actor, endpoint=endpoint).delete()
        if deleted:
            audit_log(actor=actor, action="notifications.push.unsubscribed")
    return bool(deleted)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try: 30 s, 2 min, 8 min, 32 min, ..."""
    return dt.timedelta(seconds=30 * 4 ** max(attempts - 1, 0))
