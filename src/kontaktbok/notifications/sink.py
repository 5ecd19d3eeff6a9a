"""The demo's sink (only with ``KONTAKTBOK_DEMO``): e-mail and SMS kept in the database
instead of being sent, so a school's admin can see what the school would have sent.

A message is filed under the one school that sent it (a notification's school); what no
school sent, such as account e-mails (password reset, login codes), is kept unreadable by
any school: a reset link in a list would let the reader take over the account."""

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from kontaktbok.core import clock
from kontaktbok.notifications.models import Channel, SinkMessage

# Set by the e-mail channel on a notification's e-mail: the school that sent it.
SCHOOL_HEADER = "X-Kontaktbok-School"


def keep(*, channel: str, to: str, subject: str, body: str, school_id: int | None) -> SinkMessage:
    return SinkMessage.objects.create(
        channel=channel,
        to=to,
        subject=subject[:300],
        body=body,
        schools=f",{school_id}," if school_id else "",
        created_at=clock.now(),
    )


class EmailBackend(BaseEmailBackend):
    """A Django e-mail backend that keeps each message as a ``SinkMessage``."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        count = 0
        for message in email_messages:
            body = message.body
            for alternative in getattr(message, "alternatives", []):
                if getattr(alternative, "mimetype", "") == "text/plain":
                    body = alternative.content
            school = str(message.extra_headers.get(SCHOOL_HEADER, ""))
            for to in message.recipients():
                keep(
                    channel=Channel.EMAIL,
                    to=to,
                    subject=str(message.subject),
                    body=str(body),
                    school_id=int(school) if school.isdigit() else None,
                )
                count += 1
        return count
