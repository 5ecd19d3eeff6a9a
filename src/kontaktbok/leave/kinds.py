from django.utils.translation import gettext_lazy as _

from kontaktbok.notifications.kinds import Kind, register

CONSENT_REQUESTED = register(
    Kind(
        code="leave.consent_requested",
        label=_("Leave: the other guardian is asked to agree"),
        title=_("Leave for %(name)s: do you agree?"),
        body=_(
            "%(applicant)s has applied for leave for %(name)s from %(start)s to %(end)s. "
            "The application reaches the school when you have agreed."
        ),
    )
)
SUBMITTED = register(
    Kind(
        code="leave.submitted",
        label=_("Leave: an application to decide"),
        title=_("Leave application for %(name)s"),
        body=_("An application for leave from %(start)s to %(end)s is waiting for a decision."),
    )
)
DECIDED = register(
    Kind(
        code="leave.decided",
        label=_("Leave: the school's decision"),
        title=_("Decision on leave for %(name)s"),
        body=_(
            "The school has decided on the application for leave from %(start)s to %(end)s. "
            "Read the decision letter in the app."
        ),
    )
)
APPEAL_RECEIVED = register(
    Kind(
        code="leave.appeal_received",
        label=_("Leave: an appeal to reconsider"),
        title=_("Appeal on leave for %(name)s"),
        body=_("The guardians have appealed the decision on leave from %(start)s to %(end)s."),
    )
)
APPEAL_OUTCOME = register(
    Kind(
        code="leave.appeal_outcome",
        label=_("Leave: the outcome of an appeal"),
        title=_("Your appeal on leave for %(name)s"),
        body=_("The school has reconsidered the decision on leave from %(start)s to %(end)s."),
    )
)
CONSENT_DECLINED = register(
    Kind(
        code="leave.consent_declined",
        label=_("Leave: the other guardian did not agree"),
        title=_("Leave for %(name)s: not agreed"),
        body=_(
            "The other guardian did not agree to the leave from %(start)s to %(end)s, so the "
            "application does not go to the school."
        ),
    )
)
APPEAL_TO_SEND = register(
    Kind(
        code="leave.appeal_to_send",
        label=_("Leave: an upheld appeal to send on"),
        title=_("Send the appeal on leave for %(name)s to the appeal body"),
        body=_(
            "You upheld the decision on leave from %(start)s to %(end)s. The case is ready "
            "as PDF: send it to the appeal body, then record in the app that it is sent."
        ),
    )
)
APPEAL_SENT_ON = register(
    Kind(
        code="leave.appeal_sent_on",
        label=_("Leave: the appeal is sent to the appeal body"),
        title=_("Your appeal on leave for %(name)s is sent on"),
        body=_(
            "The school has sent your appeal on the leave from %(start)s to %(end)s to the "
            "appeal body, which makes the final decision. A copy of the case is in the app."
        ),
    )
)
