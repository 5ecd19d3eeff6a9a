"""The local stand-ins for the demo: Fiks IO's REST API and Maskinporten's token endpoint
on FIKS_IO_API_URL's port, and the municipality's archive answering on RabbitMQ."""

import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand

from kontaktbok.archive import clients, keys, package, standin
from kontaktbok.archive.models import ArchiveUnit

ARCHIVE_KEY_NAME = "archive-standin"


def archive_credentials() -> package.Credentials:
    key_path, cert_path = keys.self_signed_files(settings.DATA_DIR, ARCHIVE_KEY_NAME, "Arkivet")
    return package.Credentials.from_pem(key_path.read_bytes(), cert_path.read_bytes())


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class Command(BaseCommand):
    help = "Run the local Fiks IO, Maskinporten and archive stand-ins (demo)"

    def handle(self, *args: object, **options: object) -> None:
        amqp = settings.FIKS_IO_AMQP_URL
        # Every Fiks IO client we have (the installation's and each municipality's own).
        ours = clients.all_clients()
        app = standin.FiksIOStandIn(
            publisher=standin.Publisher(amqp),
            integrations={c.integration_id: c.integration_password for c in ours},
            clients={
                c.maskinporten_client_id: c.credentials().certificate.public_bytes(
                    serialization.Encoding.PEM
                )
                for c in ours
            },
            audience=settings.MASKINPORTEN_AUDIENCE,
        )
        address = urlsplit(settings.FIKS_IO_API_URL)
        server = make_server(
            address.hostname or "127.0.0.1",
            address.port or 8091,
            app,
            server_class=_Server,
            handler_class=_Quiet,
        )
        stop = threading.Event()
        credentials = archive_credentials()
        journal = standin.Journal(Path(settings.DATA_DIR) / "archive-standin-journal.sqlite3")
        accounts = {str(a) for a in ArchiveUnit.objects.values_list("fiks_account_id", flat=True)}
        threads = [threading.Thread(target=server.serve_forever, daemon=True)]
        threads.append(
            threading.Thread(
                target=standin.forward_dead_letters,
                args=(standin.Publisher(amqp), amqp, stop),
                daemon=True,
            )
        )
        for account in sorted(accounts):
            archive = standin.ArchiveStandIn(
                account=account,
                credentials=credentials,
                publisher=standin.Publisher(amqp),
                amqp_url=amqp,
                journal=journal,
            )
            threads.append(threading.Thread(target=archive.run, args=(stop,), daemon=True))
        for thread in threads:
            thread.start()
        self.stdout.write(
            f"Fiks IO stand-in on {settings.FIKS_IO_API_URL}, archive for {len(accounts)} unit(s)"
        )
        try:
            while all(t.is_alive() for t in threads):
                threads[0].join(timeout=1)
        finally:
            stop.set()
            server.shutdown()
