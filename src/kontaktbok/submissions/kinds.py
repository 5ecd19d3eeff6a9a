from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

_TITLE = _("Your submission is sent")
_BODY = _(
    "We have received your submission to %(unit)s. Your reference is %(code)s. "
    "You get a new message when the archive has registered it."
)
RECEIPT_SMS = register(
    Kind(
        code="submissions.receipt_sms",
        label=_("Secure submission: receipt by SMS"),
        title=_TITLE,
        body=_BODY,
        scheduled=False,
        default_channels=frozenset({Channel.SMS}),
    )
)
RECEIPT_EMAIL = register(
    Kind(
        code="submissions.receipt_email",
        label=_("Secure submission: receipt by e-mail"),
        title=_TITLE,
        body=_BODY,
        scheduled=False,
        default_channels=frozenset({Channel.EMAIL}),
    )
)
