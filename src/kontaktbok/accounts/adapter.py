"""allauth adapter: accounts are made by the school, never by sign-up, and allauth's
e-mail goes through the task queue like every other message."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: Any) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render now (in the user's language), send after commit from a worker."""
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from kontaktbok.accounts.tasks import send_account_email

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
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
