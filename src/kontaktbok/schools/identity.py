"""National identity numbers (fødselsnummer / d-nummer): checked, then kept only as a keyed
digest so they can be matched at login but never shown or logged in clear."""

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _control(digits: list[int], weights: tuple[int, ...]) -> int:
    rest = 11 - sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
    return 0 if rest == 11 else rest


def is_valid_nin(value: str) -> bool:
    """True for an 11-digit number whose two control digits are right (modulus 11)."""
    if len(value) != 11 or not (value.isascii() and value.isdigit()):
        return False
    digits = [int(c) for c in value]
    first = _control(digits[:9], _WEIGHTS_1)
    second = _control(digits[:10], _WEIGHTS_2)
    return first != 10 and second != 10 and digits[9] == first and digits[10] == second


def nin_digest(value: str) -> str:
    """The keyed digest stored in place of a national identity number."""
    value = value.replace(" ", "")
    if not is_valid_nin(value):
        raise ValidationError(_("This is not a valid national identity number."), code="nin")
    key = settings.NIN_DIGEST_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def make_test_nin(birth_ddmmyy: str, individual: int) -> str | None:
    """A synthetic number with valid control digits (demo and tests), or None if none fits."""
    base = f"{birth_ddmmyy}{individual:03d}"
    digits = [int(c) for c in base]
    first = _control(digits, _WEIGHTS_1)
    if first == 10:
        return None
    second = _control([*digits, first], _WEIGHTS_2)
    if second == 10:
        return None
    return f"{base}{first}{second}"
