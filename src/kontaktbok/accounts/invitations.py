"""Invitations: a person the school added without a password gets a one-time link by
e-mail and SMS to choose one, or to make a passkey on their device (valid 7 days, single
use). Kontor sees who has not yet
activated their account and sends the link again."""

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kontaktbok.accounts.models import Invitation
from kontaktbok.accounts.selectors import not_activated_q
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.notifications.services import notify
from kontaktbok.schools import access
from kontaktbok.schools.models import School

KIND = "accounts.invitation"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(*, actor: Any, user: Any, school: School) -> Invitation:
    """A new link for ``user`` (earlier ones stop working), sent by e-mail and SMS after
    the transaction commits. Only for an account without a password."""
    if actor is not None and not access.keeps_people(actor, school.pk):
        raise PermissionDenied
    if user.has_usable_password() or user.last_login is not None:
        raise ValidationError(_("%(name)s has already chosen a password.") % {"name": user})
    if not user.email:
        raise ValidationError(
            _("%(name)s has no e-mail address to log in with a password: they use ID-porten.")
            % {"name": user}
        )
    now = clock.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(user=user, used_at=None, expires_at__gt=now).update(
            expires_at=now
        )
        invitation = Invitation.objects.create(
            user=user,
            school=school,
            token_digest=_digest(token),
            sent_by=actor,
            sent_at=now,
            expires_at=now + Invitation.VALID_FOR,
        )
        notify(
            recipient=user,
            kind=KIND,
            dedup_key=f"invitation:{invitation.pk}",
            payload={
                "school": school.name,
                "until": date_format(timezone.localtime(invitation.expires_at), "j.n.Y"),
            },
            url=reverse("invitation_accept", args=[token]),
            school_id=school.pk,
        )
        audit_log(
            actor=actor,
            action="accounts.invitation.sent",
            obj=invitation,
            school_id=school.pk,
            detail={"user": user.pk},
        )
    return invitation


def open_invitation(token: str) -> Invitation | None:
    """The invitation behind a link, if it is still unused and valid."""
    return (
        Invitation.objects.select_related("user", "school")
        .filter(token_digest=_digest(token), used_at=None, expires_at__gt=clock.now())
        .first()
    )


def _locked(token: str) -> Invitation:
    """The invitation behind a link, locked for using it up; refused when used or too old."""
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("user")
        .filter(token_digest=_digest(token), used_at=None, expires_at__gt=clock.now())
        .first()
    )
    if invitation is None:
        raise ValidationError(
            _("This link is used or too old. Ask the school office for a new one.")
        )
    return invitation


def invitation_accept(*, token: str, data: dict[str, Any]) -> Any:
    """Choose a password through an invitation; the link is used up."""
    with transaction.atomic():
        invitation = _locked(token)
        form = SetPasswordForm(invitation.user, data)
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        user = form.save()
        invitation.used_at = clock.now()
        invitation.save(update_fields=["used_at"])
        audit_log(
            actor=user,
            action="accounts.invitation.accepted",
            obj=invitation,
            school_id=invitation.school_id,
        )
    return user


def invitation_accept_passkey(*, token: str) -> Any:
    """Use the link to make a passkey on this device instead of a password: the link is
    used up and the person is let in once, to add the passkey at once (the caller logs
    them in). Only where the municipality allows passkey login."""
    if not settings.MFA_PASSKEY_LOGIN_ENABLED:
        raise ValidationError(_("Passkeys are not in use here. Choose a password."))
    with transaction.atomic():
        invitation = _locked(token)
        invitation.used_at = clock.now()
        invitation.save(update_fields=["used_at"])
        audit_log(
            actor=invitation.user,
            action="accounts.invitation.accepted",
            obj=invitation,
            school_id=invitation.school_id,
            detail={"with": "passkey"},
        )
    return invitation.user


def invitations_send_missing(*, actor: Any, school: School) -> int:
    """Send the link to everyone at the school who has none that still works (after an
    import); returns how many were sent."""
    if not access.keeps_people(actor, school.pk):
        raise PermissionDenied
    User = get_user_model()
    live = Invitation.objects.filter(user=OuterRef("pk"), used_at=None, expires_at__gt=clock.now())
    waiting = User.objects.filter(not_activated_q(school), is_active=True).exclude(Exists(live))
    with transaction.atomic():
        people = list(waiting)
        for user in people:
            invitation_send(actor=actor, user=user, school=school)
    return len(people)
