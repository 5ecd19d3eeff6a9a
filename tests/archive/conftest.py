import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pika
import pytest

from kontaktbok.archive import fiksio, keys, package, services, standin
from kontaktbok.archive.models import ArchiveDelivery
from tests import factories


@pytest.fixture(scope="session")
def archive_keys() -> tuple[bytes, bytes]:
    return keys.self_signed("Sunnfjord kommune arkiv")


@pytest.fixture
def unit(db, archive_keys):
    school = factories.school("Vassenden skule")
    staff = factories.user("Arkivansvarleg", phone="+4791234567")
    return services.unit_create(
        actor=None,
        municipality=school.municipality,
        school=school,
        name="Vassenden skule",
        fiks_account_id=uuid.uuid4(),
        archive_certificate=archive_keys[1].decode(),
        confidential=True,
        responsible_staff=[staff],
    )


def deliver(unit, *, key: str | None = None, **extra) -> ArchiveDelivery:
    fields = {
        "actor": None,
        "unit": unit,
        "external_key": key or str(uuid.uuid4()),
        "title": "Søknad om skyss for Åse",
        "sender": services.Sender(kind="organisation", name="Ødegård AS", identifier="974760673"),
        "documents": [
            services.Document("Kommentar", "kommentar.pdf", "application/pdf", b"%PDF-1.7 x"),
            services.Document("Bilete", "bilete.png", "image/png", b"\x89PNG\r\n\x1a\nx"),
        ],
        "case_number": (2026, 587),
        "sender_reference": "KB-7Q4M-2C",
    }
    fields.update(extra)
    return services.deliver_document(**fields)


# --- RabbitMQ and the stand-ins -------------------------------------------------------------


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, check=False, timeout=60)  # noqa: S603, S607


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A vhost of this test process's own on the local RabbitMQ (tests run in parallel)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("RabbitMQ is not installed (Debian package rabbitmq-server)")
    if _rabbitmqctl("status").returncode != 0:
        subprocess.run(["rabbitmq-server", "-detached"], check=False)  # noqa: S607
        _rabbitmqctl("await_startup")
    vhost = f"kontaktbok-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    if _rabbitmqctl("add_vhost", vhost).returncode != 0:
        pytest.skip("cannot make a RabbitMQ vhost")
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    _rabbitmqctl("delete_vhost", vhost)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@dataclass
class Fiks:
    url: str
    amqp_url: str
    account: str
    archive_account: str
    fiksio: standin.FiksIOStandIn
    archive: standin.ArchiveStandIn
    journal: standin.Journal
    stop: threading.Event

    def describe(self) -> str:
        """What each side holds, for a test that timed out."""
        from kontaktbok.archive.models import ArchiveAnswer

        depths: dict[str, int | str] = {}
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        try:
            for queue in (
                fiksio.account_queue(self.account),
                fiksio.account_queue(self.archive_account),
                standin.DEAD_LETTER_QUEUE,
            ):
                try:  # a channel per queue: asking for a missing queue closes the channel
                    declared = connection.channel().queue_declare(queue, passive=True)
                    depths[queue] = declared.method.message_count
                except pika.exceptions.ChannelClosedByBroker:
                    depths[queue] = "missing"
        finally:
            connection.close()
        deliveries = list(ArchiveDelivery.objects.values_list("pk", "state", "failure_reason"))
        answers = list(ArchiveAnswer.objects.values_list("delivery_id", "message_type"))
        return (
            f"deliveries {deliveries}, answers {answers}, queues {depths}, "
            f"archive saw {len(self.archive.seen)} in mode {self.archive.mode}, "
            f"Fiks IO sent {len(self.fiksio.sent)}"
        )

    def consume(self, seconds: float = 0.5) -> int:
        """Run our consumer until the queue has been quiet for ``seconds``."""
        from kontaktbok.archive import delivery

        stop = threading.Event()
        timer = threading.Timer(seconds * 6, stop.set)
        timer.start()
        try:
            return delivery.consume(
                stop=stop,
                queue=fiksio.account_queue(self.account),
                parameters=pika.URLParameters(self.amqp_url),
                idle_seconds=0.2,
            )
        except pika.exceptions.AMQPError:
            return 0  # the broker closed the channel: the next call connects again, as
            # the archive_consumer command does
        finally:
            timer.cancel()


@pytest.fixture
def fiks(amqp_url, archive_keys, unit, settings, tmp_path) -> Iterator[Fiks]:
    """Fiks IO, Maskinporten and the archive, standing in on this machine."""
    account = str(uuid.uuid4())
    archive_account = str(unit.fiks_account_id)
    ours = fiksio.credentials()
    from cryptography.hazmat.primitives import serialization

    publisher = standin.Publisher(amqp_url)
    publishers = [publisher, standin.Publisher(amqp_url), standin.Publisher(amqp_url)]
    app = standin.FiksIOStandIn(
        publisher=publisher,
        integrations={"test-integrasjon": "test-passord"},
        clients={"test-klient": ours.certificate.public_bytes(serialization.Encoding.PEM)},
    )
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    stop = threading.Event()
    journal = standin.Journal(tmp_path / "journal.sqlite3")
    archive = standin.ArchiveStandIn(
        account=archive_account,
        credentials=package.Credentials.from_pem(*archive_keys),
        publisher=publishers[1],
        amqp_url=amqp_url,
        journal=journal,
    )
    threads = [
        threading.Thread(target=server.serve_forever, daemon=True),
        threading.Thread(target=archive.run, args=(stop,), daemon=True),
        threading.Thread(
            target=standin.forward_dead_letters,
            args=(publishers[2], amqp_url, stop),
            daemon=True,
        ),
    ]
    for thread in threads:
        thread.start()
    settings.FIKS_IO_API_URL = url
    settings.FIKS_IO_ACCOUNT_ID = account
    settings.FIKS_IO_INTEGRATION_ID = "test-integrasjon"
    settings.FIKS_IO_INTEGRATION_PASSWORD = "test-passord"
    settings.FIKS_IO_AMQP_URL = amqp_url
    settings.MASKINPORTEN_TOKEN_URL = f"{url}/maskinporten/token"
    settings.MASKINPORTEN_CLIENT_ID = "test-klient"
    fiksio.forget_token()
    yield Fiks(url, amqp_url, account, archive_account, app, archive, journal, stop)
    stop.set()
    server.shutdown()
    for thread in threads[1:]:
        thread.join(timeout=5)
    for each in publishers:
        each.close()
    _delete_queues(amqp_url, [fiksio.account_queue(account), fiksio.account_queue(archive_account)])
    fiksio.forget_token()


def _delete_queues(amqp_url: str, queues: list[str]) -> None:
    """A test's account queues go with it: the broker keeps a process per quorum queue."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        for queue in queues:
            connection.channel().queue_delete(queue)
    except pika.exceptions.AMQPError:
        pass  # left for the vhost's deletion at the end of the session
    finally:
        if connection.is_open:
            connection.close()


@pytest.fixture(autouse=True)
def _no_fiks_io_unless_asked(settings):
    """Deliveries stay queued unless a test stands Fiks IO up (``fiks``)."""
    settings.FIKS_IO_API_URL = ""
