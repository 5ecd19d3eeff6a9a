"""Who is sending: the one place the ID-porten identity is read.

The national login (ID-porten, OpenID Connect) keeps the person's identity number
(``pid``) encrypted in the session for as long as that login lasts
(``kontaktbok.national.services``); a guardian who logged in with ID-porten and a citizen
who went on from the not-registered page both send with it. After any other login the
submission goes with the account's name and no identity number (``personid`` is optional
in the arkivmelding). The number is never typed by the person and never shown back in
full."""

from dataclasses import dataclass

from django.http import HttpRequest

from kontaktbok.national.services import session_pid


@dataclass(frozen=True)
class Identity:
    name: str
    national_id: str  # "" when the login did not come from ID-porten

    @property
    def masked(self) -> str:
        """The number as it may be shown: date of birth and stars (``010101*****``)."""
        return f"{self.national_id[:6]}*****" if self.national_id else ""


def sender_identity(request: HttpRequest) -> Identity:
    user = request.user
    return Identity(
        name=getattr(user, "full_name", "") or getattr(user, "email", "") or "",
        national_id=session_pid(request),
    )
