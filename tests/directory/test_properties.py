"""Properties of the call link to a staff member's work phone."""

import re

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kontaktbok.directory.selectors import tel_link
from kontaktbok.notifications.channels import normalise_phone
from kontaktbok.schools.models import StaffMember

PROPERTY = settings(max_examples=200, deadline=None, database=None)
work_phone_field = StaffMember._meta.get_field("work_phone")


def accepted_as_work_phone(text: str) -> bool:
    try:
        work_phone_field.run_validators(text)  # type: ignore[union-attr]
    except ValidationError:
        return False
    return True


@PROPERTY
@given(st.from_regex(r"\+?[0-9 ]{8,15}", fullmatch=True).filter(accepted_as_work_phone))
def test_every_accepted_work_phone_gives_a_dialable_link(phone):
    link = tel_link(phone)
    if not phone.strip():
        assert link == "", "no number, no link"
        return
    assert re.fullmatch(r"tel:\+?[0-9]+", link), link
    assert tel_link(link.removeprefix("tel:")) == link


@PROPERTY
@given(
    st.text("0123456789", min_size=8, max_size=8).filter(lambda n: n[0] != "0"),
    st.sampled_from(["", "+47", "+47 ", "0047 "]),
    st.lists(st.integers(1, 7), max_size=3, unique=True),
)
def test_the_link_dials_the_number_as_written(number, prefix, cuts):
    written = number
    for cut in sorted(cuts, reverse=True):
        written = f"{written[:cut]} {written[cut:]}"
    phone = f" {prefix}{written} "
    link = tel_link(phone)
    assert " " not in link
    assert normalise_phone(link.removeprefix("tel:")) == normalise_phone(phone)
