from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

DELIVERY_FAILED = register(
    Kind(
        code="archive.delivery_failed",
        label=_("Archive: a delivery failed"),
        title=_("A document did not reach the archive"),
        body=_(
            "The delivery of “%(title)s” to the archive for %(unit)s failed: %(reason)s. "
            "Check it on the archive deliveries page and send it again."
        ),
        urgent=True,
    )
)
ARCHIVED = register(
    Kind(
        code="archive.archived",
        label=_("Archive: your submission is registered"),
        title=_("Registered in the archive"),
        body=_("Your submission %(code)s is registered in the archive as %(reference)s."),
        scheduled=False,
        default_channels=frozenset({Channel.EMAIL, Channel.SMS}),
    )
)
