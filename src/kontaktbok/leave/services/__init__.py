"""Every write about leave: applications, the other guardian's consent, decisions
(enkeltvedtak) with their letter, appeals, and the leave rules."""

from kontaktbok.leave.services.applications import (
    leave_application_create,
    leave_application_withdraw,
    leave_consent_answer,
    leave_consent_record,
)
from kontaktbok.leave.services.decisions import (
    leave_appeal_create,
    leave_appeal_reconsider,
    leave_appeal_sent_on,
    leave_decide,
)
from kontaktbok.leave.services.letters import (
    appeal_case_make,
    decision_letter_make,
    letter_context,
)
from kontaktbok.leave.services.regulation import (
    RULES_FIELDS,
    leave_rules_save,
    municipality_leave_rules_set,
)

__all__ = [
    "RULES_FIELDS",
    "appeal_case_make",
    "decision_letter_make",
    "leave_appeal_create",
    "leave_appeal_reconsider",
    "leave_appeal_sent_on",
    "leave_application_create",
    "leave_application_withdraw",
    "leave_consent_answer",
    "leave_consent_record",
    "leave_decide",
    "leave_rules_save",
    "letter_context",
    "municipality_leave_rules_set",
]
