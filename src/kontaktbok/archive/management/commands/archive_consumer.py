"""Read the archive's answers from our Fiks IO account (AMQP) and apply them; reconnects
when the broker goes away, so that a missing RabbitMQ only delays the answers."""

import logging
import threading
import time

import pika
from django.conf import settings
from django.core.management.base import BaseCommand

from kontaktbok.archive import delivery

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Read the archive's answers from Fiks IO"

    def handle(self, *args: object, **options: object) -> None:
        if not settings.FIKS_IO_ACCOUNT_ID:
            self.stderr.write("FIKS_IO_ACCOUNT_ID is not set: no archive answers are read.")
            return
        stop = threading.Event()
        warned = False
        while not stop.is_set():
            try:
                delivery.consume(stop=stop)
            except (pika.exceptions.AMQPError, OSError) as exc:
                if not warned:
                    self.stderr.write(
                        f"No message broker at {settings.FIKS_IO_AMQP_URL.split('@')[-1]} "
                        f"({exc.__class__.__name__}): archive answers wait until it is up; "
                        "submissions stay queued, nothing is lost."
                    )
                    warned = True
                time.sleep(10)
            else:
                warned = False
