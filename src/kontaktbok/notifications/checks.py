"""Configuration checks for delivery."""

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

# The longest a single send may take: SMTP 20 s, SMS gateway and push 10 s by default.
SEND_TIMEOUT_SECONDS = 20


@register()
def lease_outlasts_a_send(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """A lease shorter than a send lets the sweep hand a row to a second worker while the
    first is still sending it, and the person may get it twice."""
    longest = max(SEND_TIMEOUT_SECONDS, settings.SMS_TIMEOUT)
    if longest + 10 > settings.DELIVERY_LEASE_SECONDS:
        return [
            Warning(
                f"DELIVERY_LEASE_SECONDS ({settings.DELIVERY_LEASE_SECONDS}) should exceed "
                f"the longest send ({longest:g} s) by at least 10 s.",
                hint="Set KONTAKTBOK_DELIVERY_LEASE_SECONDS to 300 (the default) or more.",
                id="kontaktbok.W001",
            )
        ]
    return []
