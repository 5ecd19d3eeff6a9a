"""The daily digest: held non-urgent e-mail for one person, sent as one message."""

from collections import defaultdict

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.notifications.channels import language_of, render
from kontaktbok.notifications.models import Delivery

Status = Delivery.Status


def send_due_digests() -> int:
    """Send each person's due digest once; returns the number of e-mails sent."""
    now = clock.now()
    due = (
        Delivery.objects.filter(status=Status.HELD, due_at__lte=now)
        .select_related("notification__recipient")
        .order_by("notification__created_at")
    )
    by_address: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in due:
        by_address[delivery.target].append(delivery)
    sent = 0
    for address, deliveries in by_address.items():
        ids = [d.pk for d in deliveries]
        with transaction.atomic():
            claimed = Delivery.objects.filter(pk__in=ids, status=Status.HELD).update(
                status=Status.SENDING, claimed_at=now, attempts=1
            )
        if claimed != len(ids):
            continue  # another worker is on it
        recipient = deliveries[0].notification.recipient
        with translation.override(language_of(recipient)):
            items = [render(d.notification) for d in deliveries]
            body = render_to_string("notifications/digest.txt", {"items": items})
            subject = _("kontaktbok: %(count)s new notifications") % {"count": len(items)}
        EmailMessage(subject=subject, body=body, to=[address]).send()
        Delivery.objects.filter(pk__in=ids).update(
            status=Status.DELIVERED, delivered_at=clock.now(), provider_answer="digest"
        )
        sent += 1
    return sent
