"""The demo's sink: e-mail and SMS kept in the database instead of being sent, so the
school's admin can see what would have gone out."""

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from kontaktbok.core import clock
from kontaktbok.notifications.models import Channel, SinkMessage


def recipient_school_ids(address: str) -> list[int]:
    """Schools where the owner of an e-mail address or phone number works or has children."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from kontaktbok.schools.models import Pupil, School, StaffMember

    users = get_user_model().objects.filter(Q(email__iexact=address) | Q(phone=address))
    # Two subqueries, not one OR over two many-valued joins (which multiplies the rows:
    # 0.4 s a message in a municipality of 40,000 pupils).
    return sorted(
        School.objects.filter(
            Q(pk__in=StaffMember.objects.filter(user__in=users).values("school_id"))
            | Q(pk__in=Pupil.objects.filter(guardianships__guardian__in=users).values("school_id"))
        ).values_list("pk", flat=True)
    )


def keep(
    *, channel: str, to: str, subject: str, body: str, school_ids: list[int] | None = None
) -> SinkMessage:
    return SinkMessage.objects.create(
        channel=channel,
        to=to,
        subject=subject[:300],
        body=body,
        schools=",{},".format(
            ",".join(
                str(i) for i in (school_ids if school_ids is not None else recipient_school_ids(to))
            )
        ),
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
            for to in message.recipients():
                keep(channel=Channel.EMAIL, to=to, subject=str(message.subject), body=str(body))
                count += 1
        return count
