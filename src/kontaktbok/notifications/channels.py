"""The channels a delivery can go over. Each ``send`` returns the provider's answer, or
raises ``PermanentError`` (do not retry) or any other exception (retry later)."""

import json
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import translation

from kontaktbok.notifications import kinds, push_services, sink, vapid
from kontaktbok.notifications.models import Channel, Delivery, Notification, PushSubscription


class PermanentError(Exception):
    """The delivery can never succeed (bad address, unknown number, gone device)."""


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    url: str


def language_of(user: Any) -> str:
    """The language a person reads notifications in: their own choice, else Nynorsk."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def render(notification: Notification) -> Rendered:
    """Title, text and absolute link in the recipient's language."""
    spec = kinds.get(notification.kind)
    with translation.override(language_of(notification.recipient)):
        title = str(spec.title) % notification.payload
        body = str(spec.body) % notification.payload
    url = notification.url or "/notifications/"
    if url.startswith("/"):
        url = settings.SITE_URL.rstrip("/") + url
    return Rendered(title=title, body=body, url=url)


def message_id(delivery: Delivery) -> str:
    """Stable per delivery, so a retried e-mail is recognisably the same message."""
    return f"<delivery-{delivery.pk}.notification-{delivery.notification_id}@kontaktbok>"


def send_email(delivery: Delivery) -> str:
    try:
        validate_email(delivery.target)
    except ValidationError:
        raise PermanentError("invalid e-mail address") from None
    notification = delivery.notification
    content = render(notification)
    with translation.override(language_of(notification.recipient)):
        body = render_to_string("notifications/email.txt", {"content": content})
    message = EmailMessage(
        subject=content.title,
        body=body,
        to=[delivery.target],
        headers={
            "Message-ID": message_id(delivery),
            "X-Kontaktbok-Delivery": str(delivery.pk),
            **({sink.SCHOOL_HEADER: str(notification.school_id)} if notification.school_id else {}),
        },
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"refused: {exc.recipients}") from exc
    return "accepted"


# E.164 (a country code never starts with 0), or a Norwegian eight-digit number.
PHONE = re.compile(r"\+[1-9][0-9]{7,14}|[0-9]{8}")


def normalise_phone(value: str) -> str:
    """E.164: Norwegian eight-digit numbers get +47; a leading 00 is read as +."""
    digits = re.sub(r"[\s().-]", "", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not PHONE.fullmatch(digits):
        raise PermanentError("invalid phone number")
    if not digits.startswith("+"):
        digits = "+47" + digits
    return digits


def send_sms(delivery: Delivery) -> str:
    to = normalise_phone(delivery.target)
    content = render(delivery.notification)
    text = f"{content.title}: {content.body} {content.url}"
    if settings.SMS_GATEWAY == "sink":
        sink.keep(
            channel=Channel.SMS,
            to=to,
            subject="",
            body=text,
            school_id=delivery.notification.school_id,
        )
        return "kept in the demo sink"
    if settings.SMS_GATEWAY != "http":
        raise PermanentError("no SMS gateway is configured (KONTAKTBOK_SMS_URL)")
    response = requests.post(
        settings.SMS_URL,
        json={
            "to": to,
            "from": settings.SMS_SENDER,
            "text": text,
            "reference": f"delivery-{delivery.pk}",
        },
        headers={"Idempotency-Key": f"delivery-{delivery.pk}"},
        auth=(settings.SMS_USER, settings.SMS_PASSWORD) if settings.SMS_USER else None,
        timeout=settings.SMS_TIMEOUT,
    )
    answer = f"{response.status_code} {response.text[:300]}"
    if response.status_code in (400, 404, 422):
        raise PermanentError(answer)
    response.raise_for_status()
    return answer


def send_push(delivery: Delivery) -> str:
    from pywebpush import WebPushException, webpush

    subscription = PushSubscription.objects.filter(
        pk=delivery.target, user_id=delivery.notification.recipient_id
    ).first()
    if subscription is None:
        raise PermanentError("the device has turned push off")
    if not push_services.is_push_service(subscription.endpoint):
        subscription.delete()
        raise PermanentError("the push address is not a known push service")
    content = render(delivery.notification)
    data = json.dumps(
        {
            "title": content.title,
            "body": content.body,
            "url": content.url,
            "tag": f"notification-{delivery.notification_id}",
        }
    )
    try:
        response: Any = webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=data,
            vapid_private_key=vapid.private_key_path(),
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=3600 if not delivery.notification.urgent else 600,
            headers={"Urgency": "high" if delivery.notification.urgent else "normal"},
            timeout=10,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (404, 410):
            subscription.delete()
            raise PermanentError(f"{status}: the device is gone") from exc
        if 400 <= status < 500 and status != 429:
            raise PermanentError(f"{status}: {exc}") from exc
        raise
    return f"{response.status_code}"


SENDERS: dict[str, Callable[[Delivery], str]] = {
    Channel.EMAIL: send_email,
    Channel.SMS: send_sms,
    Channel.PUSH: send_push,
}
