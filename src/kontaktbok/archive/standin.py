"""Local stand-ins for Fiks IO, Maskinporten and the municipality's archive, for the demo
and the tests; they speak the real protocols on one machine.

- ``FiksIOStandIn``: a WSGI app with ``POST /maskinporten/token`` (checks the JWT grant's
  signature against the client's certificate) and ``POST /fiks-io/api/v1/send`` (checks the
  token and the integration headers, reads both parts, publishes to
  ``fiksio.konto.<mottakerKontoId>`` on RabbitMQ with Fiks IO's header names). Account queues
  are quorum queues that dead-letter a message on its third unacknowledged delivery; the
  stand-in then sends ``no.ks.fiks.kvittering.serverfeil.v1`` to the sender, as Fiks IO does.
- ``ArchiveStandIn``: consumes the archive's account queue, decrypts, checks the signature,
  validates the arkivmelding and answers ``mottatt`` then an encrypted ``kvittering`` with a
  journal number; a repeated client message id gets the same entry (``Eksisterende``). Modes:
  ``ok``, ``serverfeil``, ``noack`` (never acknowledges), ``silent`` (never answers).
"""

import base64
import datetime as dt
import email.parser
import email.policy
import json
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pika
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from lxml import etree

from kontaktbok.archive import arkivmelding, package

log = logging.getLogger(__name__)
DEAD_LETTER_EXCHANGE = "fiksio.dlx"
DEAD_LETTER_QUEUE = "fiksio.deadletter"
FIKSIO_SERVERFEIL = arkivmelding.FIKSIO_SERVERFEIL[0]
PUBLISH_TRIES = 5


def declare_account_queue(channel: Any, queue: str) -> None:
    """A Fiks IO account queue: the third delivery without ack dead-letters the message."""
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="fanout", durable=True)
    channel.queue_declare(DEAD_LETTER_QUEUE, durable=True)
    channel.queue_bind(DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE)
    channel.queue_declare(
        queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": 2,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        },
    )


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class Publisher:
    """Publishes Fiks IO messages to RabbitMQ with the real header names (thread-safe)."""

    def __init__(self, amqp_url: str, names: dict[str, str] | None = None) -> None:
        self.amqp_url = amqp_url
        self.names = names or {}
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None
        self._declared: set[str] = set()

    def _open(self) -> Any:
        if self._connection is None or not self._connection.is_open:
            self._connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
            self._channel = self._connection.channel()
            # Fiks IO never loses a message it has taken: each publish waits for the
            # broker's confirm (a quorum queue still electing its leader may refuse one).
            self._channel.confirm_delivery()
            self._declared = set()
        return self._channel

    def publish(
        self,
        *,
        sender: str,
        recipient: str,
        message_type: str,
        body: bytes,
        reply_to: str | None = None,
        own_headers: dict[str, str] | None = None,
    ) -> str:
        message_id = str(uuid.uuid4())
        headers: dict[str, Any] = {
            "avsender-id": sender,
            "avsender-navn": self.names.get(sender, sender),
            "melding-id": message_id,
            "type": message_type,
        }
        if reply_to:
            headers["svar-til"] = reply_to
        for name, value in (own_headers or {}).items():
            headers[f"egendefinert-header.{name}"] = value
        queue = f"fiksio.konto.{recipient}"
        with self._lock:
            for attempt in range(PUBLISH_TRIES):
                try:
                    channel = self._open()
                    if queue not in self._declared:
                        declare_account_queue(channel, queue)
                        self._declared.add(queue)
                    channel.basic_publish(
                        "",
                        queue,
                        body,
                        pika.BasicProperties(
                            headers=headers, delivery_mode=2, message_id=message_id
                        ),
                        mandatory=True,
                    )
                    break
                except (pika.exceptions.NackError, pika.exceptions.UnroutableError):
                    if attempt == PUBLISH_TRIES - 1:
                        raise
                    time.sleep(0.2 * (attempt + 1))
                except pika.exceptions.AMQPError:
                    self._connection = None
                    if attempt == PUBLISH_TRIES - 1:
                        raise
        return message_id

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()


class FiksIOStandIn:
    """The REST side of Fiks IO and a Maskinporten token endpoint (WSGI)."""

    def __init__(
        self,
        *,
        publisher: Publisher,
        integrations: dict[str, str],
        clients: dict[str, bytes],
        audience: str = "https://maskinporten.no/",
    ) -> None:
        self.publisher = publisher
        self.integrations = integrations  # integration id -> password
        self.clients = clients  # Maskinporten client id -> certificate PEM
        self.audience = audience
        self.tokens: dict[str, float] = {}
        self.sent: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method == "POST" and path == "/maskinporten/token":
                status, body = self.token(environ)
            elif method == "POST" and path == "/fiks-io/api/v1/send":
                status, body = self.send(environ)
            else:
                status, body = "404 Not Found", {"error": "not found"}
        except Exception as exc:
            log.exception("fiks io stand-in")
            status, body = "500 Internal Server Error", {"error": str(exc)}
        data = json.dumps(body).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return bytes(environ["wsgi.input"].read(length))

    def token(self, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        form = parse_qs(self._body(environ).decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return "400 Bad Request", {"error": "unsupported_grant_type"}
        try:
            head, claims_part, signature = form["assertion"][0].split(".")
            header = json.loads(_b64url_decode(head))
            claims = json.loads(_b64url_decode(claims_part))
            known = self.clients.get(claims.get("iss", ""))
            certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            if known is None or x509.load_pem_x509_certificate(known) != certificate:
                return "400 Bad Request", {"error": "invalid_client"}
            public_key = certificate.public_key()
            assert isinstance(public_key, RSAPublicKey)
            public_key.verify(
                _b64url_decode(signature),
                f"{head}.{claims_part}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (KeyError, ValueError, InvalidSignature, AssertionError):
            return "400 Bad Request", {"error": "invalid_grant"}
        if claims.get("aud") != self.audience or claims.get("exp", 0) < time.time():
            return "400 Bad Request", {"error": "invalid_grant"}
        if "ks:fiks" not in str(claims.get("scope", "")).split():
            return "400 Bad Request", {"error": "invalid_scope"}
        value = secrets.token_urlsafe(32)
        self.tokens[value] = time.time() + 120
        return "200 OK", {"access_token": value, "token_type": "Bearer", "expires_in": 120}

    def send(self, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        bearer = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        if self.tokens.get(bearer, 0) < time.time():
            return "401 Unauthorized", {"error": "invalid token"}
        integration = environ.get("HTTP_INTEGRASJONID", "")
        if self.integrations.get(integration) != environ.get("HTTP_INTEGRASJONPASSORD"):
            return "403 Forbidden", {"error": "unknown integration"}
        content_type = environ.get("CONTENT_TYPE", "")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + self._body(environ)
        )
        parts: dict[str, bytes] = {}
        for part in message.iter_parts():
            content = part.get_payload(decode=True)
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str) and isinstance(content, bytes):
                parts[name] = content
        if "metadata" not in parts or "data" not in parts:
            return "400 Bad Request", {"error": "metadata and data parts are required"}
        metadata = json.loads(parts["metadata"])
        message_id = self.publisher.publish(
            sender=metadata["avsenderKontoId"],
            recipient=metadata["mottakerKontoId"],
            message_type=metadata["meldingType"],
            body=parts["data"] or b"",
            reply_to=metadata.get("svarPaMelding"),
            own_headers=metadata.get("headere") or {},
        )
        self.sent.append({"meldingId": message_id, **metadata})
        return "200 OK", {"meldingId": message_id, **metadata}


def until_stopped(work: Callable[[threading.Event], None], stop: threading.Event) -> None:
    """Run a consumer until ``stop`` is set, connecting again after a broker error (a
    broker under load may close a channel; what was not acknowledged comes again)."""
    while not stop.is_set():
        try:
            work(stop)
        except pika.exceptions.AMQPError as exc:
            log.warning("stand-in consumer: %s; connecting again", exc)
            time.sleep(0.5)


def forward_dead_letters(publisher: Publisher, amqp_url: str, stop: threading.Event) -> None:
    """Answer each message dead-lettered after three deliveries with Fiks IO's serverfeil."""
    until_stopped(lambda event: _forward_dead_letters(publisher, amqp_url, event), stop)


def _forward_dead_letters(publisher: Publisher, amqp_url: str, stop: threading.Event) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="fanout", durable=True)
        channel.queue_declare(DEAD_LETTER_QUEUE, durable=True)
        channel.queue_bind(DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE)
        for method, properties, _body in channel.consume(DEAD_LETTER_QUEUE, inactivity_timeout=0.5):
            if method is None:
                if stop.is_set():
                    break
                continue
            headers = properties.headers or {}
            publisher.publish(
                sender=str(headers.get("x-first-death-queue", "")).removeprefix("fiksio.konto."),
                recipient=str(headers.get("avsender-id", "")),
                message_type=FIKSIO_SERVERFEIL,
                body=b"",
                reply_to=str(headers.get("melding-id", "")),
            )
            channel.basic_ack(method.delivery_tag)
    finally:
        if connection.is_open:
            connection.close()


class Journal:
    """The stand-in archive's journal (SQLite): one entry per client message id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS entry (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " client_id TEXT UNIQUE, external_key TEXT, title TEXT, year INTEGER,"
                " case_number TEXT, post_number INTEGER, created TEXT)"
            )

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def record(
        self, *, client_id: str, external_key: str, title: str, case: str
    ) -> tuple[int, int, int, bool]:
        """(year, sequence, post number, created) for the entry."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT year, seq, post_number FROM entry WHERE client_id = ? OR external_key = ?",
                (client_id, external_key),
            ).fetchone()
            if row:
                db.execute("COMMIT")
                return row[0], row[1], row[2], False
            year = dt.date.today().year
            post = 1
            if case:
                post = (
                    1
                    + db.execute(
                        "SELECT COUNT(*) FROM entry WHERE case_number = ?", (case,)
                    ).fetchone()[0]
                )
            cursor = db.execute(
                "INSERT INTO entry (client_id, external_key, title, year, case_number,"
                " post_number, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    client_id,
                    external_key,
                    title,
                    year,
                    case,
                    post,
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )
            db.execute("COMMIT")
            return year, int(cursor.lastrowid or 0), post, True

    def count(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM entry").fetchone()[0])


def receipt_xml(*, year: int, sequence: int, post: int, created: bool, external_key: str) -> bytes:
    ns = arkivmelding.KVITTERING_NS
    mdk = arkivmelding.MDK
    xsi = arkivmelding.XSI
    root = etree.Element(
        f"{{{ns}}}arkivmeldingKvittering", nsmap={None: ns, "mdk": mdk, "xsi": xsi}
    )
    registration = etree.SubElement(root, f"{{{ns}}}registreringKvittering")
    registration.set(f"{{{xsi}}}type", "journalpostKvittering")
    etree.SubElement(registration, f"{{{ns}}}systemID").text = str(
        uuid.uuid5(uuid.NAMESPACE_URL, external_key)
    )
    key = etree.SubElement(registration, f"{{{ns}}}referanseEksternNoekkel")
    etree.SubElement(key, f"{{{mdk}}}fagsystem").text = arkivmelding.SYSTEM
    etree.SubElement(key, f"{{{mdk}}}noekkel").text = external_key
    etree.SubElement(registration, f"{{{ns}}}opprettetEllerEksisterende").text = (
        "Opprettet" if created else "Eksisterende"
    )
    etree.SubElement(registration, f"{{{ns}}}journalaar").text = str(year)
    etree.SubElement(registration, f"{{{ns}}}journalsekvensnummer").text = str(sequence)
    etree.SubElement(registration, f"{{{ns}}}journalpostnummer").text = str(post)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    arkivmelding.validate(xml, arkivmelding.KVITTERING)
    return bytes(xml)


def error_xml(kind: str, feil_id: str, text: str) -> bytes:
    element = "ugyldigforespoersel" if kind == arkivmelding.UGYLDIG else "serverfeil"
    ns = f"https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/feil/{element}/v1"
    base = "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/feil/feilmelding/v1"
    root = etree.Element(f"{{{ns}}}{element}", nsmap={None: ns, "f": base})
    etree.SubElement(root, f"{{{base}}}feilId").text = feil_id
    etree.SubElement(root, f"{{{base}}}feilmelding").text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


class ArchiveStandIn:
    """The municipality's archive behind its Fiks IO account."""

    def __init__(
        self,
        *,
        account: str,
        credentials: package.Credentials,
        publisher: Publisher,
        amqp_url: str,
        journal: Journal,
        mode: str = "ok",
    ) -> None:
        self.account = account
        self.credentials = credentials
        self.publisher = publisher
        self.amqp_url = amqp_url
        self.journal = journal
        self.mode = mode
        self.seen: list[dict[str, Any]] = []

    def _reply(
        self,
        headers: dict[str, Any],
        message_type: str,
        xml: bytes | None,
        signer: x509.Certificate | None,
    ) -> None:
        body = b""
        if xml is not None:
            name = (
                "arkivmelding-kvittering.xml"
                if message_type == arkivmelding.KVITTERING
                else "feilmelding.xml"
            )
            container = package.container([(name, xml, "application/xml")], self.credentials)
            if signer is not None:
                from cryptography.hazmat.primitives import serialization

                body = package.encrypt(container, signer.public_bytes(serialization.Encoding.PEM))
        self.publisher.publish(
            sender=self.account,
            recipient=str(headers.get("avsender-id", "")),
            message_type=message_type,
            body=body,
            reply_to=str(headers.get("melding-id", "")),
        )

    def handle(self, headers: dict[str, Any], body: bytes) -> str:
        """Process one message; returns what was answered."""
        client_id = str(
            headers.get("egendefinert-header.klientMeldingId")
            or headers.get("klientmelding-id")
            or ""
        )
        self.seen.append({"client_id": client_id, "melding_id": headers.get("melding-id")})
        if self.mode == "silent":
            return "silent"
        signer = None
        try:
            if headers.get("type") != arkivmelding.OPPRETT:
                raise arkivmelding.InvalidMessage(f"unknown message type {headers.get('type')}")
            opened = package.open_container(package.decrypt(body, self.credentials))
            signer = opened.signer
            xml = opened.files.get("arkivmelding.xml")
            if xml is None:
                raise arkivmelding.InvalidMessage("no arkivmelding.xml")
            arkivmelding.validate(xml, arkivmelding.OPPRETT)
        except (arkivmelding.InvalidMessage, package.PackageError) as exc:
            self._reply(
                headers,
                arkivmelding.UGYLDIG,
                error_xml(arkivmelding.UGYLDIG, str(uuid.uuid4()), str(exc)),
                signer,
            )
            return arkivmelding.UGYLDIG
        if self.mode == "serverfeil":
            self._reply(
                headers,
                arkivmelding.SERVERFEIL,
                error_xml(
                    arkivmelding.SERVERFEIL, str(uuid.uuid4()), "Arkivet er ikkje tilgjengeleg"
                ),
                signer,
            )
            return arkivmelding.SERVERFEIL
        self._reply(headers, arkivmelding.MOTTATT, None, signer)
        root = etree.fromstring(xml)
        ns = {"a": arkivmelding.NS, "m": arkivmelding.MDK}
        key = root.findtext(".//a:referanseEksternNoekkel/m:noekkel", namespaces=ns) or ""
        title = root.findtext("a:registrering/a:tittel", namespaces=ns) or ""
        year = root.findtext(".//m:saksnummer/m:saksaar", namespaces=ns)
        seq = root.findtext(".//m:saksnummer/m:sakssekvensnummer", namespaces=ns)
        case = f"{year}/{seq}" if year and seq else ""
        j_year, j_seq, post, created = self.journal.record(
            client_id=client_id or key, external_key=key, title=title, case=case
        )
        self._reply(
            headers,
            arkivmelding.KVITTERING,
            receipt_xml(year=j_year, sequence=j_seq, post=post, created=created, external_key=key),
            signer,
        )
        return arkivmelding.KVITTERING

    def run(self, stop: threading.Event) -> None:
        until_stopped(self._run, stop)

    def _run(self, stop: threading.Event) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        try:
            channel = connection.channel()
            queue = f"fiksio.konto.{self.account}"
            declare_account_queue(channel, queue)
            channel.basic_qos(prefetch_count=1)
            for method, properties, body in channel.consume(queue, inactivity_timeout=0.5):
                if method is None:
                    if stop.is_set():
                        break
                    continue
                if self.mode == "noack":
                    self.seen.append({"melding_id": (properties.headers or {}).get("melding-id")})
                    channel.basic_nack(method.delivery_tag, requeue=True)
                    continue
                self.handle(dict(properties.headers or {}), body or b"")
                channel.basic_ack(method.delivery_tag)
        finally:
            if connection.is_open:
                connection.close()
