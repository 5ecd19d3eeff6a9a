"""Who at a school has not yet activated the account the school made for them."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404

from kontaktbok.accounts.models import Invitation
from kontaktbok.schools import access
from kontaktbok.schools.models import Guardianship, School, StaffMember


@dataclass(frozen=True)
class NotActivated:
    school: School
    people: list[Any]  # users, each with ``.latest_invitations`` and ``.is_staff_member``


def not_activated_q(school: School) -> Q:
    """Guardians (with parental responsibility, of pupils still at the school) and staff of
    the school who have no password and have never logged in. Those without an e-mail
    address are not among them: they log in nationally and choose no password."""
    guardian = Exists(
        Guardianship.objects.filter(
            guardian=OuterRef("pk"),
            parental_responsibility=True,
            pupil__school=school,
            pupil__left_on__isnull=True,
        )
    )
    staff = Exists(StaffMember.objects.filter(user=OuterRef("pk"), school=school))
    no_password = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return (
        (Q(guardian) | Q(staff)) & no_password & Q(last_login__isnull=True) & Q(email__isnull=False)
    )


def not_activated(*, actor: Any, school_id: int, limit: int = 1000) -> NotActivated:
    if not access.keeps_people(actor, school_id):
        raise Http404
    school = School.objects.get(pk=school_id)
    people = list(
        get_user_model()
        .objects.filter(not_activated_q(school), is_active=True)
        .annotate(
            is_staff_member=Exists(StaffMember.objects.filter(user=OuterRef("pk"), school=school))
        )
        .prefetch_related(
            Prefetch(
                "invitations",
                queryset=Invitation.objects.filter(school=school).order_by("-sent_at"),
                to_attr="latest_invitations",
            )
        )
        .order_by("full_name")[:limit]
    )
    return NotActivated(school=school, people=people)
