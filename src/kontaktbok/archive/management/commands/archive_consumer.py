"""Read the archive's answers from every Fiks IO account we have (each municipality's own
and the installation's) and apply them; each account on its own connection, which
reconnects when the broker goes away, so that a missing RabbitMQ only delays the answers.
An account set up while this runs is picked up within a minute."""

import logging
import threading
import time

import pika
from django.conf import settings
from django.core.management.base import BaseCommand

from kontaktbok.archive import clients, delivery, fiksio

log = logging.getLogger(__name__)
RESCAN_SECONDS = 60


class Command(BaseCommand):
    help = "Read the archive's answers from Fiks IO"

    def handle(self, *args: object, **options: object) -> None:
        stop = threading.Event()
        readers: dict[str, threading.Thread] = {}
        told = False
        while not stop.is_set():
            try:
                found = {client.account_id: client for client in clients.all_clients()}
            except fiksio.NotConfigured as exc:
                found = {}
                self.stderr.write(f"Fiks IO is not set up: {exc}")
            if not found and not readers and not told:
                self.stderr.write(
                    "No Fiks IO account is set up (FIKS_IO_ACCOUNT_ID or "
                    "`kontaktbok fiks_account`): no archive answers are read yet."
                )
                told = True
            for account, client in found.items():
                if account not in readers or not readers[account].is_alive():
                    readers[account] = threading.Thread(
                        target=self.read, args=(client, stop), daemon=True
                    )
                    readers[account].start()
            stop.wait(RESCAN_SECONDS)

    def read(self, client: fiksio.Client, stop: threading.Event) -> None:
        """Read one account's queue for as long as the command runs."""
        warned = False
        while not stop.is_set():
            try:
                delivery.consume(client=client, stop=stop)
            except (pika.exceptions.AMQPError, OSError) as exc:
                if not warned:
                    self.stderr.write(
                        f"No message broker at {settings.FIKS_IO_AMQP_URL.split('@')[-1]} "
                        f"for account {client.account_id} ({exc.__class__.__name__}): "
                        "archive answers wait until it is up; submissions stay queued, "
                        "nothing is lost."
                    )
                    warned = True
                time.sleep(10)
            except Exception:
                log.exception("archive answers on account %s", client.account_id)
                time.sleep(10)
            else:
                warned = False
