"""The kinds of notification. Feature apps register theirs with ``register``.

Title and body are translatable format strings filled from the payload, rendered in the
recipient's language when the notification is delivered.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.models import Channel


@dataclass(frozen=True)
class Kind:
    code: str
    label: Promise | str
    title: Promise | str
    body: Promise | str
    urgent: bool = False
    # False for what the person asked for just now (a test): not held for quiet hours.
    scheduled: bool = True
    default_channels: frozenset[str] = frozenset({Channel.EMAIL, Channel.PUSH})


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.code] = kind
    return kind


def get(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise ValueError(f"unknown notification kind: {code}") from None


TEST = register(
    Kind(
        code="notifications.test",
        label=_("Test notification"),
        title=_("Test from kontaktbok"),
        body=_("This is a test notification you asked for. Notifications reach you like this."),
        scheduled=False,
    )
)
