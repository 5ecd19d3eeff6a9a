"""Writes to user accounts."""

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from kontaktbok.core.audit import audit_log
from kontaktbok.schools.identity import nin_digest

User = get_user_model()


def user_create(
    *,
    actor: Any,
    email: str,
    full_name: str,
    password: str | None = None,
    phone: str = "",
    nin: str | None = None,
    language: str = "",
) -> Any:
    """A new account. Without a password it cannot log in by password (ID-porten/Feide)."""
    with transaction.atomic():
        user = User(
            email=email.strip().lower(),
            full_name=full_name,
            phone=phone,
            language=language,
            nin_digest=nin_digest(nin) if nin else None,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        # The school made the account with this address: it counts as verified.
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        audit_log(actor=actor, action="accounts.user.created", obj=user)
    return user


def user_language_set(*, actor: Any, language: str) -> bool:
    """Keep the person's chosen language (one of ``LANGUAGES``) on their account; returns
    whether it changed. Anything else is ignored, as Django's language switch does."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        return False
    if actor.language == language:
        return False
    actor.language = language
    actor.save(update_fields=["language"])
    return True
