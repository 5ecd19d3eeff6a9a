"""Every login is audited: a person's login history (in their copy of their data) and the
municipality's trail of who came in, when and how."""

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from kontaktbok.core.audit import audit_log


@receiver(user_logged_in, dispatch_uid="kontaktbok.accounts.login_audit")
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    backend = getattr(user, "backend", "") or ""
    audit_log(
        actor=user,
        action="accounts.login",
        obj=user,
        detail={"backend": backend.rsplit(".", 1)[-1]},
    )
