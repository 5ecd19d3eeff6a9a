"""Notifications of the relay log. They never carry content: the child's first name and
a link that needs login, nothing of the concern, the school or the entries."""

from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register
from kontaktbok.notifications.models import Channel

CHANNELS = frozenset({Channel.PUSH, Channel.EMAIL})

ENTRY = register(
    Kind(
        code="relaylog.entry",
        label=_("New entry in a relay log"),
        title=_("New entry in the relay log for %(child)s"),
        body=_("Log in to kontaktbok to read it."),
        default_channels=CHANNELS,
    )
)
INVITED = register(
    Kind(
        code="relaylog.invited",
        label=_("Invited to a relay log"),
        title=_("You are invited to the relay log for %(child)s"),
        body=_("Log in to kontaktbok to read it."),
        default_channels=CHANNELS,
    )
)
JOIN = register(
    Kind(
        code="relaylog.join",
        label=_("Link to join a relay log"),
        title=_("You are invited to the relay log for %(child)s"),
        body=_(
            "Open the link and log in with ID-porten to join. The link works once, for seven days."
        ),
        default_channels=CHANNELS,
    )
)
CONSENT = register(
    Kind(
        code="relaylog.consent",
        label=_("Consent asked for in a relay log"),
        title=_("Your consent is asked for in the relay log for %(child)s"),
        body=_("Log in to kontaktbok to read it."),
        default_channels=CHANNELS,
    )
)
HANDOVER = register(
    Kind(
        code="relaylog.handover",
        label=_("The baton of a relay log"),
        title=_("You are asked to take over the relay log for %(child)s"),
        body=_("Log in to kontaktbok to accept or decline."),
        default_channels=CHANNELS,
    )
)
DECISION_DUE = register(
    Kind(
        code="relaylog.decision_due",
        label=_("Level 0 decision due"),
        title=_("Decide by %(deadline)s how to go on with the relay log for %(child)s"),
        body=_("Log in to kontaktbok to decide."),
        default_channels=CHANNELS,
    )
)
EVALUATION_DUE = register(
    Kind(
        code="relaylog.evaluation_due",
        label=_("Evaluation overdue"),
        title=_("An evaluation in the relay log for %(child)s is overdue"),
        body=_("Log in to kontaktbok to record it."),
        default_channels=CHANNELS,
    )
)
