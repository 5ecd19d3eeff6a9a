from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

INVITATION = register(
    Kind(
        code="accounts.invitation",
        label=_("Invitation to kontaktbok"),
        title=_("%(school)s has given you access to kontaktbok"),
        body=_(
            "Choose your password with the link below; it works once, until %(until)s. "
            "After that you log in to kontaktbok with your e-mail address and the password."
        ),
        urgent=True,
        scheduled=False,
        default_channels=frozenset({Channel.EMAIL, Channel.SMS}),
    )
)
