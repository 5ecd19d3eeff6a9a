"""Account e-mail (password reset and the like) is sent by a worker, never in the request."""

from django.core.mail import EmailMultiAlternatives
from django.tasks import task


@task
def send_account_email(
    *,
    subject: str,
    body: str,
    to: list[str],
    from_email: str,
    alternatives: list[tuple[str, str]],
    headers: dict[str, str],
) -> None:
    message = EmailMultiAlternatives(
        subject=subject, body=body, to=to, from_email=from_email, headers=headers
    )
    for content, mimetype in alternatives:
        message.attach_alternative(content, mimetype)
    message.send()
