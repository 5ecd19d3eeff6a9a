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

ALL_CHANNELS = frozenset({Channel.PUSH, Channel.SMS, Channel.EMAIL})

LOOKUP_ALERT = register(
    Kind(
        code="absence.lookup.alert",
        label=_("Your child is not at school"),
        title=_("%(child)s is not at school"),
        body=_(
            "%(child)s is not at %(school)s today, and we have no report of absence. Find out "
            "where %(child)s is and tell the school straight away: answer in kontaktbok, or "
            "call the school on %(phone)s."
        ),
        urgent=True,
        default_channels=ALL_CHANNELS,
    )
)
LOOKUP_ESCALATION = register(
    Kind(
        code="absence.lookup.escalation",
        label=_("Your child is still not accounted for"),
        title=_("%(child)s is still not accounted for"),
        body=_(
            "%(child)s has still not come to %(school)s and nobody has told us where %(child)s "
            "is. If you cannot reach %(child)s, you must now consider contacting the police "
            "(phone 112 or 02800). Tell the school what you know: answer in kontaktbok, or "
            "call %(phone)s."
        ),
        urgent=True,
        default_channels=ALL_CHANNELS,
    )
)
LOOKUP_ARRIVED = register(
    Kind(
        code="absence.lookup.arrived",
        label=_("Your child has come to school"),
        title=_("%(child)s has come to school"),
        body=_("%(child)s has now been registered at %(school)s. Thank you."),
        urgent=True,
        default_channels=ALL_CHANNELS,
    )
)
LOOKUP_STAFF_ESCALATION = register(
    Kind(
        code="absence.lookup.staff_escalation",
        label=_("A missing pupil is not accounted for"),
        title=_("Missing pupil: %(child)s (%(group)s)"),
        body=_(
            "%(child)s (%(group)s) was registered absent and is still not accounted for "
            "%(minutes)s minutes after the guardians were alerted. Call the guardians. By the "
            "routine, guardians who cannot reach their child within 30–45 minutes must "
            "consider contacting the police (112, or 02800). Write in the case what is done."
        ),
        urgent=True,
        default_channels=ALL_CHANNELS,
    )
)
LOOKUP_ANSWERED = register(
    Kind(
        code="absence.lookup.answered",
        label=_("A guardian answered about a missing pupil"),
        title=_("%(child)s: the guardian answered"),
        body=_("The guardian of %(child)s (%(group)s) answered: %(answer)s"),
        default_channels=frozenset({Channel.PUSH}),
        scheduled=False,
    )
)
REGISTRATION_MISSING = register(
    Kind(
        code="absence.registration_missing",
        label=_("Attendance not registered"),
        title=_("%(group)s: attendance is not registered"),
        body=_(
            "No attendance has been registered for %(group)s today, and the first lesson is "
            "over. Register it now, so that a missing pupil is looked for."
        ),
        urgent=True,
        default_channels=frozenset({Channel.PUSH, Channel.EMAIL}),
    )
)
REGISTRATION_MISSING_OFFICE = register(
    Kind(
        code="absence.registration_missing_office",
        label=_("Classes without attendance registered"),
        title=_("Attendance is not registered in %(count)s classes"),
        body=_(
            "The first lesson is over, and no attendance has been registered today for: "
            "%(groups)s. Make sure it is registered, so that a missing pupil is looked for."
        ),
        urgent=True,
        default_channels=frozenset({Channel.PUSH, Channel.EMAIL}),
    )
)
