"""Who is sending: the one place the ID-porten identity is read.

National login (ID-porten, OpenID Connect) puts the person's identity number (``pid``) in
the session when they log in; until it does, the submission goes with the logged-in user's
name and no identity number (``personid`` is optional in the arkivmelding). The number is
never typed by the person and never shown back in full."""

from dataclasses import dataclass

from django.http import HttpRequest

# Where the ID-porten login keeps the verified identity number for this session.
IDPORTEN_PID_SESSION_KEY = "idporten_pid"


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
        name=getattr(user, "full_name", "") or getattr(user, "email", ""),
        national_id=str(request.session.get(IDPORTEN_PID_SESSION_KEY, "")),
    )
