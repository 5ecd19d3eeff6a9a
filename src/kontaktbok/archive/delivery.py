"""Sending deliveries and reading the archive's answers.

A worker claims a queued delivery with one conditional UPDATE under a lease, builds and
sends it, and records the send. A worker that dies anywhere leaves the row queued and
claimed; when the lease runs out the sweep queues it again and the next send carries the
same client message id, which the archive treats as the same message.

The consumer reads the answers from our Fiks IO account's queue and acknowledges each only
after its own commit (``services.answer_record``)."""

import datetime as dt
import logging
import threading
import uuid
from typing import Any

import pika
from django.conf import settings
from django.db.models import F, Q

from kontaktbok.archive import arkivmelding, clients, fiksio, package, services
from kontaktbok.archive.models import ArchiveDelivery, ArchiveDocument
from kontaktbok.core import clock
from kontaktbok.messaging import files as sealed

log = logging.getLogger(__name__)
State = ArchiveDelivery.State


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes between tries, at most an hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def claim(delivery_id: int) -> dt.datetime | None:
    now = clock.now()
    lease = dt.timedelta(seconds=settings.ARCHIVE_LEASE_SECONDS)
    claimed = ArchiveDelivery.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease),
        pk=delivery_id,
        state=State.QUEUED,
        due_at__lte=now,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    return now if claimed else None


def payload(delivery: ArchiveDelivery, client: fiksio.Client) -> bytes:
    """The encrypted, signed ASiC-E for the delivery, its arkivmelding validated first;
    signed with the certificate of the client it is sent from."""
    documents = list(ArchiveDocument.objects.filter(delivery=delivery).order_by("number"))
    if any(d.data is None for d in documents):
        raise package.PackageError("the content of this delivery is deleted")
    xml = arkivmelding.build(services.journal_entry(delivery, documents))
    files = [("arkivmelding.xml", xml, "application/xml")]
    files += [
        (d.filename, sealed.decrypt(bytes(d.data or b""), name=str(d.uuid)), d.content_type)
        for d in documents
    ]
    container = package.container(files, client.credentials())
    return package.encrypt(container, delivery.unit.archive_certificate.encode())


def send(delivery_id: int) -> str | None:
    """Send one delivery if it is due and nobody holds it; returns what happened."""
    claimed_at = claim(delivery_id)
    if claimed_at is None:
        return None
    delivery = ArchiveDelivery.objects.select_related("unit__municipality").get(pk=delivery_id)
    try:
        client = clients.client_for(delivery.unit.municipality_id)
        body = payload(delivery, client)
        message_id = fiksio.send(
            client=client,
            recipient_account=delivery.unit.fiks_account_id,
            message_type=arkivmelding.OPPRETT,
            payload=body,
            client_message_id=delivery.client_message_id,
        )
    except (arkivmelding.InvalidMessage, package.PackageError, fiksio.PermanentError) as exc:
        services.delivery_fail(delivery_id=delivery_id, reason=str(exc), claimed_at=claimed_at)
        return State.FAILED
    except fiksio.NotConfigured as exc:
        log.warning("archive delivery %s stays queued: %s", delivery_id, exc)
        _release(delivery_id, claimed_at, clock.now() + dt.timedelta(minutes=5))
        return State.QUEUED
    except Exception as exc:
        log.warning("archive delivery %s, try %s: %s", delivery_id, delivery.attempts, exc)
        if delivery.attempts >= settings.ARCHIVE_MAX_ATTEMPTS:
            services.delivery_fail(
                delivery_id=delivery_id, reason=f"gave up: {exc}", claimed_at=claimed_at
            )
            return State.FAILED
        _release(delivery_id, claimed_at, clock.now() + backoff(delivery.attempts))
        return State.QUEUED
    services.delivery_mark_sent(
        delivery_id=delivery_id,
        claimed_at=claimed_at,
        message_id=message_id,
        account_id=uuid.UUID(client.account_id),
    )
    return State.SENT


def _release(delivery_id: int, claimed_at: dt.datetime, due_at: dt.datetime) -> None:
    ArchiveDelivery.objects.filter(pk=delivery_id, claimed_at=claimed_at).update(
        claimed_at=None, due_at=due_at
    )


# --- answers ------------------------------------------------------------------------------


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(value.decode() if isinstance(value, bytes) else str(value))
    except ValueError:
        return None


def read_payload(body: bytes, client: fiksio.Client) -> bytes:
    """The XML in an answer: decrypt (with the key of the account it came to), check the
    container, take its one XML file."""
    if not body:
        return b""
    opened = package.open_container(package.decrypt(body, client.credentials()))
    xml = [data for name, data in opened.files.items() if name.endswith(".xml")]
    return xml[0] if xml else b""


def handle(
    headers: dict[str, Any], body: bytes, *, client: fiksio.Client
) -> ArchiveDelivery | None:
    """Apply one answer that came on the client's account (committed when this returns)."""
    message_type = str(headers.get("type", ""))
    reply_to = _uuid(headers.get("svar-til"))
    client_id = _uuid(
        headers.get("egendefinert-header.klientMeldingId") or headers.get("klientmelding-id")
    )
    message_id = _uuid(headers.get("melding-id")) or uuid.uuid4()
    if headers.get("dokumentlager-id"):
        log.error("answer %s is in Fiks Dokumentlager, which kontaktbok does not read", message_id)
    try:
        xml = read_payload(body, client)
    except package.PackageError as exc:
        xml = f"<unreadable>{exc}</unreadable>".encode()
        if message_type == arkivmelding.KVITTERING:
            message_type = "kontaktbok.unreadable-receipt"
    return services.answer_record(
        message_id=message_id,
        message_type=message_type,
        sender_account=_uuid(headers.get("avsender-id")),
        in_reply_to=reply_to,
        client_message_id=client_id,
        payload=xml,
        received_on=uuid.UUID(client.account_id),
    )


def declare(channel: Any, queue: str) -> None:
    """Our account's queue as the local stand-in makes it (Fiks IO has it already)."""
    from kontaktbok.archive.standin import declare_account_queue

    declare_account_queue(channel, queue)


def consume(
    *,
    client: fiksio.Client | None = None,
    stop: threading.Event | None = None,
    queue: str | None = None,
    parameters: pika.ConnectionParameters | None = None,
    idle_seconds: float = 1.0,
) -> int:
    """Read the answers on one client's account (the installation's if none is given)
    until ``stop`` is set; ack each after its commit. Returns the count."""
    client = client or fiksio.installation_client()
    if client is None:
        raise fiksio.NotConfigured("FIKS_IO_ACCOUNT_ID is not set")
    queue = queue or fiksio.account_queue(client.account_id)
    connection = pika.BlockingConnection(parameters or fiksio.connection_parameters(client))
    handled = 0
    try:
        channel = connection.channel()
        if not settings.FIKS_IO_AMQP_URL.startswith("amqps://"):
            declare(channel, queue)
        # One answer at a time: a message held unacknowledged when we stop goes back to the
        # queue, and each return counts towards Fiks IO's limit of three deliveries.
        channel.basic_qos(prefetch_count=1)
        for method, properties, body in channel.consume(queue, inactivity_timeout=idle_seconds):
            if method is not None:  # a message taken is always handled before stopping
                handle(dict(properties.headers or {}), body or b"", client=client)
                channel.basic_ack(method.delivery_tag)
                handled += 1
            if stop is not None and stop.is_set():
                break
        channel.cancel()
    finally:
        if connection.is_open:
            connection.close()
    return handled
