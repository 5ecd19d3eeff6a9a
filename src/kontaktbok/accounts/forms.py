"""allauth's forms where kontaktbok asks more of them."""

from typing import Any

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm

from kontaktbok.accounts.backends import must_use_id_porten


class ResetPasswordForm(AllauthResetPasswordForm):
    """No reset link to an account that logs in with ID-porten only; the page answers
    the same as for an unknown address."""

    users: list[Any]

    def clean_email(self) -> str:
        email = super().clean_email()
        self.users = [user for user in self.users if not must_use_id_porten(user)]
        return email
