from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

CHECK_REMINDER = register(
    Kind(
        code="absence.check_reminder",
        label=_("Reminder: the daily absence check"),
        title=_("%(group)s: the absence check is not done"),
        body=_(
            "The class team has not checked today's absence for %(group)s. Check it before "
            "%(deadline)s."
        ),
        default_channels=frozenset({Channel.PUSH, Channel.EMAIL}),
    )
)
