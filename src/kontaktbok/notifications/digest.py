"""The daily digest: held non-urgent e-mail for one person, sent as one message.

A digest is one delivery of several rows: they are claimed together (held → sending), sent
as one e-mail whose Message-ID is the same on every try, and finished together, with one
audit entry. A failed send puts them back to wait for the next try (held, with the usual
backoff), and a worker that dies leaves them to the sweep, which hands them back to the
digest too: they never go out as single e-mails.
"""

import datetime as dt
import hashlib
import logging
import smtplib
from collections import defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.notifications.channels import PermanentError, language_of, render
from kontaktbok.notifications.models import Delivery
from kontaktbok.notifications.services import backoff

log = logging.getLogger(__name__)
Status = Delivery.Status


def send_due_digests() -> int:
    """Send each person's due digest once; returns the number of e-mails sent."""
    due = (
        Delivery.objects.filter(status=Status.HELD, due_at__lte=clock.now())
        .order_by("notification__created_at", "pk")
        .values_list("pk", "target")
    )
    by_address: dict[str, list[int]] = defaultdict(list)
    for pk, address in due:
        by_address[address].append(pk)
    return sum(_send(address, ids) for address, ids in by_address.items())


def message_id(rows: Sequence[Delivery]) -> str:
    """The same for the same rows on every try, so a provider can recognise a repeat."""
    pks = ",".join(str(pk) for pk in sorted(row.pk for row in rows))
    digest = hashlib.sha256(pks.encode()).hexdigest()[:24]
    return f"<digest-{digest}@kontaktbok>"


def _send(address: str, ids: list[int]) -> bool:
    claimed_at = clock.now()
    # Another worker may hold some of them already: send only the rows this claim took.
    Delivery.objects.filter(pk__in=ids, status=Status.HELD).update(
        status=Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1
    )
    rows = list(
        Delivery.objects.filter(pk__in=ids, status=Status.SENDING, claimed_at=claimed_at)
        .select_related("notification__recipient")
        .order_by("notification__created_at", "pk")
    )
    if not rows:
        return False
    attempts = max(row.attempts for row in rows)
    try:
        _email(address, rows)
    except PermanentError as exc:
        return _finish(rows, claimed_at, Status.FAILED, str(exc))
    except Exception as exc:
        log.warning("digest to delivery rows %s failed: %s", [r.pk for r in rows], exc)
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            return _finish(rows, claimed_at, Status.FAILED, f"gave up: {exc}")
        return _finish(rows, claimed_at, Status.HELD, f"try {attempts}: {exc}", attempts)
    return _finish(rows, claimed_at, Status.DELIVERED, "digest")


def _email(address: str, rows: list[Delivery]) -> None:
    try:
        validate_email(address)
    except ValidationError:
        raise PermanentError("invalid e-mail address") from None
    recipient = rows[0].notification.recipient
    with translation.override(language_of(recipient)):
        items = [render(row.notification) for row in rows]
        body = render_to_string("notifications/digest.txt", {"items": items})
        subject = _("kontaktbok: %(count)s new notifications") % {"count": len(items)}
    message = EmailMessage(
        subject=subject, body=body, to=[address], headers={"Message-ID": message_id(rows)}
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"refused: {exc.recipients}") from exc


def _finish(
    rows: list[Delivery], claimed_at: dt.datetime, status: str, answer: str, attempts: int = 0
) -> bool:
    """Finish the rows this claim still holds; one audit entry for a delivered or failed
    digest. Returns whether a digest was delivered."""
    now = clock.now()
    fields: dict = {"status": status, "provider_answer": answer[:2000], "claimed_at": None}
    if status == Status.DELIVERED:
        fields["delivered_at"] = now
    if status == Status.HELD:
        fields["due_at"] = now + backoff(attempts)
    ids = [row.pk for row in rows]
    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk__in=ids, status=Status.SENDING, claimed_at=claimed_at
        ).update(**fields)
        if updated and status in (Status.DELIVERED, Status.FAILED):
            audit_log(
                actor=None,
                action=f"notifications.digest.{status}",
                detail={
                    "recipient": rows[0].notification.recipient_id,
                    "deliveries": ids,
                    "notifications": [row.notification_id for row in rows],
                    "answer": answer[:200],
                },
            )
    if updated != len(ids):
        log.warning(
            "digest rows %s: the lease ran out before the send finished (%s); raise "
            "DELIVERY_LEASE_SECONDS.",
            ids,
            status,
        )
    return bool(updated) and status == Status.DELIVERED
