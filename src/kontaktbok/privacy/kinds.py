from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register

# The person asked for it a moment ago: told at once, not held for quiet hours.
EXPORT_READY = register(
    Kind(
        code="privacy.export_ready",
        label=_("My data: the copy is ready"),
        title=_("Your data from kontaktbok are ready"),
        body=_(
            "The copy of your data that you asked for is ready. Download it in kontaktbok "
            "under My data before %(expires)s."
        ),
        scheduled=False,
    )
)
