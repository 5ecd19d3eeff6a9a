"""Delivering one outbox row, exactly once per row however many workers run.

A worker claims a row with one UPDATE (pending → sending); only the claimant sends it. If
the worker dies, the row stays ``sending`` until its lease runs out and the sweep hands it
back. E-mail carries a Message-ID and SMS an idempotency key that are the same on every
try, so a provider can recognise a repeat.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.notifications.channels import SENDERS, PermanentError
from kontaktbok.notifications.models import Delivery
from kontaktbok.notifications.services import backoff

log = logging.getLogger(__name__)
Status = Delivery.Status


def claim(delivery_id: int) -> dt.datetime | None:
    """Take the row if it is due and nobody has it; returns the claim time, or None."""
    now = clock.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, due_at__lte=now
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return now if claimed else None


def deliver(delivery_id: int) -> str | None:
    """Send one delivery if it is due and unclaimed; returns its new status."""
    claimed_at = claim(delivery_id)
    if claimed_at is None:
        return None
    delivery = Delivery.objects.select_related("notification__recipient").get(pk=delivery_id)
    try:
        answer = SENDERS[delivery.channel](delivery)
    except PermanentError as exc:
        return _finish(delivery, claimed_at, Status.FAILED, str(exc))
    except Exception as exc:
        log.warning("delivery %s failed: %s", delivery_id, exc)
        if delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            return _finish(delivery, claimed_at, Status.FAILED, f"gave up: {exc}")
        return _finish(
            delivery,
            claimed_at,
            Status.PENDING,
            f"try {delivery.attempts}: {exc}",
            due_at=clock.now() + backoff(delivery.attempts),
        )
    return _finish(delivery, claimed_at, Status.DELIVERED, answer)


def _finish(
    delivery: Delivery,
    claimed_at: dt.datetime,
    status: str,
    answer: str,
    due_at: dt.datetime | None = None,
) -> str | None:
    fields: dict = {"status": status, "provider_answer": answer[:2000], "queued_at": None}
    if status == Status.DELIVERED:
        fields["delivered_at"] = clock.now()
    if due_at is not None:
        fields["due_at"] = due_at
    with transaction.atomic():
        # Only the claimant whose lease still holds may finish the row.
        updated = Delivery.objects.filter(
            pk=delivery.pk, status=Status.SENDING, claimed_at=claimed_at
        ).update(**fields)
        if updated and status in (Status.DELIVERED, Status.FAILED):
            audit_log(
                actor=None,
                action=f"notifications.delivery.{status}",
                obj=delivery,
                school_id=delivery.notification.school_id,
                detail={
                    "channel": delivery.channel,
                    "attempts": delivery.attempts,
                    "notification": delivery.notification_id,
                    "answer": answer[:200],
                },
            )
    if not updated:
        log.warning(
            "delivery %s: the lease ran out before the send finished (%s); another worker "
            "has it. Raise DELIVERY_LEASE_SECONDS.",
            delivery.pk,
            status,
        )
    return status if updated else None


def sweep() -> list[int]:
    """Hand back rows whose worker died (a digest's rows to the digest); mark as queued and
    return the rows now due that have no task on the queue (new after a wait, retries,
    handed back, or a lost task). An urgent row queued but not taken by a worker within
    ``DELIVERY_URGENT_REQUEUE_SECONDS`` (its task lost between the commit and the queue,
    say) is queued again: a missing-pupil alert waits at most that and a sweep, not the
    whole lease. A second task for a row is harmless: only one worker can claim it."""
    now = clock.now()
    lease = dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    urgent_after = dt.timedelta(seconds=settings.DELIVERY_URGENT_REQUEUE_SECONDS)
    expired = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - lease)
    expired.filter(in_digest=False).update(status=Status.PENDING, claimed_at=None, queued_at=None)
    expired.filter(in_digest=True).update(status=Status.HELD, claimed_at=None)
    due = Delivery.objects.filter(
        Q(queued_at__isnull=True)
        | Q(queued_at__lt=now - lease)
        | Q(queued_at__lt=now - urgent_after, notification__urgent=True, claimed_at__isnull=True),
        status=Status.PENDING,
        due_at__lte=now,
    )
    ids = list(due.order_by("due_at").values_list("pk", flat=True)[:5000])
    Delivery.objects.filter(pk__in=ids).update(queued_at=now)
    return ids
