import pytest
import time_machine

from tests import factories

# A school day in the demo school year: Tuesday 24 November 2026, 07:45 in Oslo.
SCHOOL_DAY = "2026-11-24 07:45 +0100"


@pytest.fixture(autouse=True)
def _school_day():
    with time_machine.travel(SCHOOL_DAY, tick=True):
        yield


@pytest.fixture
def world(db):
    return factories.world()


@pytest.fixture
def leaders_with_mfa(world):
    """Leiing must have a second factor before they reach any page."""
    from allauth.mfa.totp.internal.auth import TOTP

    for leader in (world.leadership, world.other_leadership):
        TOTP.activate(leader, "JBSWY3DPEHPK3PXP")


class _SmtpSink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on localhost; the default mailer points at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()
