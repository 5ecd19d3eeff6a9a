"""Background work for messages: telling people about new messages. A write queues its task
in its own transaction, so the request costs the same however many are told, and the task
runs if and only if the message was saved."""

from django.tasks import task

from kontaktbok.messaging import services


@task
def tell_others(*, message_id: int) -> int:
    """A message was written: notify the others on its thread."""
    return services.message_tell_others(message_id=message_id)


@task
def tell_families(*, broadcast_id: int) -> int:
    """A message to groups was sent: notify the guardians of every family it reached."""
    return services.broadcast_tell_families(broadcast_id=broadcast_id)


@task
def tell_added(*, participant_id: int) -> None:
    """A colleague was added to a thread: tell them."""
    services.participant_tell_added(participant_id=participant_id)
