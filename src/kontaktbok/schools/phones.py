"""Mobile numbers the school sends SMS to: Norwegian and foreign, checked with Google's
libphonenumber (``phonenumbers``)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SMS_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def mobile_number(value: str) -> str:
    """``value`` as an international mobile number ("+47 912 34 567"); a number without a
    country code is Norwegian. Refused, with a message in the user's language, when it is
    no number or cannot receive SMS (a landline, say)."""
    try:
        number = phonenumbers.parse(value, "NO")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a phone number."), code="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a phone number."), code="phone")
    if phonenumbers.number_type(number) not in SMS_TYPES:
        raise ValidationError(
            _("This number cannot receive SMS: give a mobile number."), code="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
