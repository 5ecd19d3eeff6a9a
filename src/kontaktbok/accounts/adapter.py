"""allauth adapter: accounts are made by the school, never by sign-up, and allauth's
e-mail goes through the task queue like every other message."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kontaktbok.schools.selectors import installation_name


@dataclass(frozen=True)
class Site:
    """What allauth's e-mails call ``current_site``: the municipality, not the host name
    the request happened to reach ("Hello from Vassenden kommune!")."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: Any) -> bool:
        return False

    def pre_authenticate(self, request: Any, **credentials: Any) -> None:
        """Password login can be switched off (``KONTAKTBOK_PASSWORD_LOGIN=off``) once
        ID-porten and Feide are set up."""
        if not settings.PASSWORD_LOGIN:
            raise ValidationError(
                _("Password login is switched off here. Log in with ID-porten or Feide.")
            )
        super().pre_authenticate(request, **credentials)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A login with ID-porten or Feide, or through an invitation's one-time link (to
        add a passkey), in the last minutes counts as having just proved who one is (the
        person may have no password to give again)."""
        import time

        from allauth.account import app_settings as account_settings
        from allauth.core import context as allauth_context

        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        records = (request.session.get("account_authentication_methods") or []) if request else []
        national = [
            r
            for r in records
            if (r.get("method") == "socialaccount" and r.get("provider") in {"idporten", "feide"})
            or r.get("method") == "invitation"
        ]
        recent = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
        return not (national and national[-1].get("at", 0) > recent)

    def get_login_stages(self) -> list[str]:
        """allauth's stages, with a second-factor stage that a national login at a
        two-factor level passes by itself."""
        return [
            "kontaktbok.national.stages.AuthenticateStage"
            if stage == "allauth.mfa.stages.AuthenticateStage"
            else stage
            for stage in super().get_login_stages()
        ]

    def logout(self, request: Any) -> None:
        """End the local session; after a national login, also that provider's session
        (its end-session endpoint, with the id_token as hint) and the sid's record."""
        from kontaktbok.national import services as national

        key = request.session.session_key
        super().logout(request)
        national.session_forget(key)

    def get_logout_redirect_url(self, request: Any) -> str:
        """Asked before the logout: after a national login, the provider's end-session
        endpoint, which sends the person back to kontaktbok's front page."""
        from kontaktbok.national import services as national

        active = request.session.get(national.ACTIVE)
        url = national.logout_redirect(request, active) if active else None
        return url or super().get_logout_redirect_url(request)

    def format_email_subject(self, subject: str) -> str:
        return f"[{installation_name()}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render now (in the user's language), send after commit from a worker."""
        from allauth.core import context as allauth_context

        from kontaktbok.accounts.tasks import send_account_email

        request = allauth_context.request
        site = Site(name=installation_name(), domain=urlsplit(settings.SITE_URL).netloc)
        ctx = {"request": request, "email": email, **context, "current_site": site}
        message = self.render_mail(template_prefix, email, ctx)
        alternatives = [(str(a[0]), str(a[1])) for a in getattr(message, "alternatives", [])]
        transaction.on_commit(
            lambda: send_account_email.enqueue(
                subject=str(message.subject),
                body=str(message.body),
                to=list(message.to),
                from_email=str(message.from_email),
                alternatives=alternatives,
                headers={str(k): str(v) for k, v in message.extra_headers.items()},
            )
        )
