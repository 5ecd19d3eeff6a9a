"""The messages the person is party to: the threads they are on and may still see
(``messaging.selectors.visible_threads``), every message in them with its attachments,
decrypted as the messaging app serves them to a participant, and the messages to groups
they sent."""

from typing import Any

from django.db.models import Prefetch
from django.utils import translation

from kontaktbok.accounts.models import User
from kontaktbok.messaging import selectors as messaging_selectors
from kontaktbok.messaging import services as messaging_services
from kontaktbok.messaging.models import Attachment, Broadcast, Message, Participant
from kontaktbok.privacy.collect.common import Files, safe_name, when


def messages(person: User, files: Files, language: str) -> dict[str, Any]:
    threads = (
        messaging_selectors.visible_threads(person)
        .select_related("school", "pupil", "created_by")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("user").order_by("joined_at", "pk"),
            ),
            Prefetch(
                "messages",
                queryset=Message.objects.select_related("author")
                .prefetch_related(
                    Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
                )
                .order_by("created_at", "pk"),
            ),
        )
        .order_by("created_at", "pk")
    )
    with translation.override(language):
        rows = [_thread(person, thread, files) for thread in threads]
    return {"threads": rows, "broadcasts_sent": _broadcasts(person)}


def _thread(person: User, thread: Any, files: Files) -> dict[str, Any]:
    participants = list(thread.participants.all())
    me = next(p for p in participants if p.user_id == person.pk)
    return {
        "id": thread.pk,
        "subject": thread.subject,
        "about": thread.pupil.full_name,
        "school": thread.school.name,
        "sensitive": thread.sensitive,
        "started_by": thread.created_by.get_full_name() if thread.created_by else None,
        "started_at": when(thread.created_at),
        "my_role": messaging_selectors.role_label(me.role),
        "last_read_at": when(me.last_read_at),
        "archived_at": when(me.archived_at),
        "participants": [
            {
                "name": p.user.get_full_name(),
                "side": p.side,
                "role": messaging_selectors.role_label(p.role),
                "joined_at": when(p.joined_at),
            }
            for p in participants
        ],
        "messages": [_message(person, thread, m, files) for m in thread.messages.all()],
    }


def _message(person: User, thread: Any, message: Message, files: Files) -> dict[str, Any]:
    return {
        "id": message.pk,
        "author": message.author.get_full_name() if message.author else None,
        "by_self": message.author_id == person.pk,
        "sent_at": when(message.created_at),
        "text": message.body,
        "attachments": [_attachment(person, thread, a, files) for a in message.attachments.all()],
    }


def _attachment(person: User, thread: Any, attachment: Attachment, files: Files) -> dict[str, Any]:
    # Opened as a participant downloads it: the access check and the audit entry are there.
    _found, content = messaging_services.attachment_open(actor=person, attachment_id=attachment.pk)
    path = files.add(
        f"attachments/thread-{thread.pk}/{attachment.pk}-{safe_name(attachment.filename)}",
        content,
    )
    return {
        "file_name": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "file": path,
    }


def _broadcasts(person: User) -> list[dict[str, Any]]:
    sent = (
        Broadcast.objects.filter(created_by=person)
        .select_related("school")
        .prefetch_related("groups")
        .order_by("created_at", "pk")
    )
    return [
        {
            "school": b.school.name,
            "subject": b.subject,
            "groups": sorted(g.name for g in b.groups.all()),
            "families": b.family_count,
            "sent_at": when(b.created_at),
        }
        for b in sent
    ]
