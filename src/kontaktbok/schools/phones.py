"""Phone numbers: the mobile numbers the school sends SMS to and staff's work numbers,
Norwegian and foreign, checked with Google's libphonenumber (``phonenumbers``)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SMS_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def _parsed(value: str) -> phonenumbers.PhoneNumber:
    """A valid number; one without a country code is Norwegian."""
    try:
        number = phonenumbers.parse(value, "NO")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a phone number."), code="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a phone number."), code="phone")
    return number


def _international(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mobile_number(value: str) -> str:
    """``value`` as an international mobile number ("+47 41 23 45 67"). Refused, with a
    message in the user's language, when it is no number or cannot receive SMS."""
    number = _parsed(value)
    if phonenumbers.number_type(number) not in SMS_TYPES:
        raise ValidationError(
            _("This number cannot receive SMS: give a mobile number."), code="phone"
        )
    return _international(number)


def mobile_or_landline(value: str) -> str:
    """A work number (mobile or landline) in the international form."""
    return _international(_parsed(value))
