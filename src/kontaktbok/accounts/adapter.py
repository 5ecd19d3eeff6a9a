"""allauth adapter: accounts are made by the school, never by sign-up, and allauth's
e-mail goes through the task queue like every other message."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction

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
