"""Notification kinds for the tests, registered in every process that uses tests.settings
(worker subprocesses included)."""

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

URGENT = register(
    Kind(
        code="tests.urgent",
        label="Urgent test",
        title="Urgent %(n)s",
        body="Body %(n)s",
        urgent=True,
    )
)
PLAIN = register(
    Kind(
        code="tests.plain",
        label="Plain test",
        title="Plain %(n)s",
        body="Plain body %(n)s",
        default_channels=frozenset({Channel.EMAIL, Channel.PUSH}),
    )
)
