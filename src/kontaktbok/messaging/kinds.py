from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

# Non-urgent: notify() holds it until 07–21, and for staff until their working hours begin.
# The text names the child and the sender only; the message itself is read in kontaktbok.
MESSAGE = register(
    Kind(
        code="messaging.message",
        label=_("New message"),
        title=_("New message about %(child)s"),
        body=_("%(sender)s wrote a message about %(child)s. Read it in kontaktbok."),
        default_channels=frozenset({Channel.PUSH, Channel.EMAIL}),
    )
)
ADDED = register(
    Kind(
        code="messaging.added",
        label=_("Added to a conversation"),
        title=_("You were added to a conversation about %(child)s"),
        body=_("%(sender)s added you to a conversation about %(child)s. Read it in kontaktbok."),
        default_channels=frozenset({Channel.PUSH, Channel.EMAIL}),
    )
)
