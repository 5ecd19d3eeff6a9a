"""Reads of the outbox, always for the acting user or the schools they administer."""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kontaktbok.notifications import kinds
from kontaktbok.notifications.models import (
    Channel,
    Delivery,
    DigestChoice,
    Notification,
    Preference,
    SinkMessage,
)


def my_notifications(*, actor: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=actor).order_by("-created_at", "-id")


def unread_count(*, actor: Any) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).count()


def get_my_notification(*, actor: Any, notification_id: int) -> Notification:
    try:
        return my_notifications(actor=actor).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None


def chosen_channels(spec: kinds.Kind, preference: Preference | None) -> set[str]:
    """Urgent kinds use every channel; others the person's choice, else the kind's default."""
    if spec.urgent:
        return set(Channel.values)
    if preference is None:
        return set(spec.default_channels)
    return {channel for channel in Channel.values if getattr(preference, channel)}


def preference_rows(*, actor: Any) -> list[dict[str, Any]]:
    """Every kind with the user's channels (urgent kinds always on every channel)."""
    saved = {p.kind: p for p in Preference.objects.filter(user=actor)}
    return [
        {"kind": spec, "channels": chosen_channels(spec, saved.get(spec.code))}
        for spec in sorted(kinds.KINDS.values(), key=lambda k: (not k.urgent, str(k.label)))
    ]


def digest_enabled(*, actor: Any) -> bool:
    return DigestChoice.objects.filter(user=actor, enabled=True).exists()


def failed_deliveries(*, school_ids: list[int]) -> QuerySet[Delivery]:
    """Deliveries that failed for good, for the school admin to follow up."""
    return (
        Delivery.objects.filter(
            status=Delivery.Status.FAILED, notification__school_id__in=school_ids
        )
        .select_related("notification__recipient")
        .order_by("-id")
    )


def sink_messages(*, school_ids: list[int]) -> QuerySet[SinkMessage]:
    q = Q(pk__in=[])
    for school_id in school_ids:
        q |= Q(schools__contains=f",{school_id},")
    return SinkMessage.objects.filter(q).order_by("-created_at", "-id")
