"""Every write about messages: threads, replies, messages to groups, participants, read
marks, archiving, attachments and the school's settings.

The routine: guardians write in kontaktbok (never SMS to private phones) and choose the
recipients; the school writes to the guardians with parental responsibility who may receive
information; a message to many must be confirmed with its count, and a sensitive one can go
to one family only.
"""

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.messaging import files as filetypes
from kontaktbok.messaging import selectors
from kontaktbok.messaging.kinds import ADDED, MESSAGE
from kontaktbok.messaging.models import (
    Attachment,
    AttachmentContent,
    Broadcast,
    Message,
    MessagingSettings,
    Participant,
    Thread,
)
from kontaktbok.notifications.services import Outgoing, notify, notify_many
from kontaktbok.schools import access
from kontaktbok.schools.models import Pupil, StaffMember

Side = Participant.Side
MAX_SUBJECT = 120
MAX_BODY = 10_000
MAX_FILES = filetypes.MAX_FILES


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


# --- checks -------------------------------------------------------------------------------


def _check_text(subject: str | None, body: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if subject is not None:
        if not subject.strip():
            errors["subject"] = _("Write a subject.")
        elif len(subject.strip()) > MAX_SUBJECT:
            errors["subject"] = _("Keep the subject to %(max)d characters.") % {"max": MAX_SUBJECT}
    if not body.strip():
        errors["body"] = _("Write a message.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("Keep the message to %(max)d characters.") % {"max": MAX_BODY}
    return errors


def too_large_message(max_mb: int) -> str:
    return _("A file is too large. Attachments can be at most %(mb)d MB.") % {"mb": max_mb}


def _not_accepted_message(name: str) -> str:
    return _("%(name)s cannot be attached. You can attach %(accepted)s.") % {
        "name": name,
        "accepted": filetypes.ACCEPTED_TYPES,
    }


def _legacy_office_message(name: str) -> str:
    return _(
        "%(name)s is in an old Office format (.doc, .xls or .ppt), which can hide macros. "
        "Save it as .docx, .xlsx, .pptx or PDF and attach it again. You can attach %(accepted)s."
    ) % {"name": name, "accepted": filetypes.ACCEPTED_TYPES}


def check_files(files: Sequence[UploadedFile], *, settings: MessagingSettings) -> list[CheckedFile]:
    """Size, count and type (by content) of the attachments; read only when they pass."""
    if not files:
        return []
    max_mb = settings.max_attachment_mb
    if len(files) > MAX_FILES:
        raise ValidationError(
            {"attachments": _("Attach at most %(count)d files.") % {"count": MAX_FILES}}
        )
    checked = []
    for upload in files:
        name = filetypes.safe_filename(upload.name or "")
        if (upload.size or 0) > max_mb * 1024 * 1024:
            raise ValidationError({"attachments": too_large_message(max_mb)})
        stream = upload.file
        if not upload.size or stream is None:
            raise ValidationError(
                {"attachments": _("The file %(name)s is empty.") % {"name": name}}
            )
        content_type = filetypes.detect(stream)
        if content_type is None and filetypes.is_legacy_office(stream):
            raise ValidationError({"attachments": _legacy_office_message(name)})
        if content_type is None or not filetypes.name_fits(content_type, name):
            raise ValidationError({"attachments": _not_accepted_message(name)})
        stream.seek(0)
        checked.append(CheckedFile(name, content_type, stream.read()))
    return checked


def _store_files(message: Message, checked: list[CheckedFile]) -> list[Attachment]:
    """The attachments' metadata, then their encrypted bytes: two INSERTs however many."""
    if not checked:
        return []
    stored = Attachment.objects.bulk_create(
        [
            Attachment(
                message=message,
                filename=item.filename,
                content_type=item.content_type,
                size=len(item.data),
                sha256=hashlib.sha256(item.data).hexdigest(),
                created_at=message.created_at,
            )
            for item in checked
        ]
    )
    AttachmentContent.objects.bulk_create(
        [
            AttachmentContent(
                attachment=attachment,
                ciphertext=filetypes.encrypt(item.data, name=str(attachment.uuid)),
            )
            for attachment, item in zip(stored, checked, strict=True)
        ]
    )
    return stored


def _tasks() -> Any:
    # The tasks module imports this one; importing it at call time keeps the two apart.
    from kontaktbok.messaging import tasks

    return tasks


def _tell_about(messages: Sequence[Message]) -> int:
    """Tell every other participant of each message's thread (those on it when it was
    written), once per message; notify_many holds it until the sending window and, for
    staff, their working hours. ``messages``: at most one per thread, with their thread,
    pupil and author."""
    threads = {m.thread_id: m for m in messages}
    participants = (
        Participant.objects.filter(thread_id__in=threads).select_related("user").order_by("pk")
    )
    by_school: dict[int, list[Outgoing]] = {}
    for participant in participants:
        message = threads[participant.thread_id]
        if participant.user_id == message.author_id or participant.joined_at > message.created_at:
            continue
        author = message.author
        by_school.setdefault(message.thread.school_id, []).append(
            Outgoing(
                recipient=participant.user,
                dedup_key=f"messaging.message:{message.pk}",
                payload={
                    "child": message.thread.pupil.first_name,
                    "sender": author.get_full_name() if author else "",
                },
                url=reverse("messaging_thread", kwargs={"thread_id": message.thread_id}),
            )
        )
    for school_id, items in by_school.items():
        notify_many(kind=MESSAGE.code, items=items, school_id=school_id)
    return sum(len(items) for items in by_school.values())


def message_tell_others(*, message_id: int) -> int:
    """Notify the others on the thread about a new message (a worker does this, queued in
    the message's own transaction); returns how many were told."""
    messages = Message.objects.filter(pk=message_id).select_related("thread__pupil", "author")
    return _tell_about(list(messages))


def broadcast_tell_families(*, broadcast_id: int) -> int:
    """Notify the guardians of every family a message to groups reached (a worker does
    this, queued in the broadcast's own transaction); returns how many were told."""
    messages = (
        Message.objects.filter(thread__broadcast_id=broadcast_id)
        .select_related("thread__pupil", "author")
        .order_by("created_at", "pk")
    )
    first: dict[int, Message] = {}
    for message in messages:  # replies may have come in before the worker got here
        first.setdefault(message.thread_id, message)
    return _tell_about(list(first.values()))


def participant_tell_added(*, participant_id: int) -> None:
    """Tell a colleague they were added to a thread (a worker does this, queued in the
    same transaction as the adding)."""
    participant = Participant.objects.select_related("thread__pupil", "user", "added_by").get(
        pk=participant_id
    )
    thread = participant.thread
    notify(
        recipient=participant.user,
        kind=ADDED.code,
        dedup_key=f"messaging.added:{thread.pk}:{participant.user_id}",
        payload={
            "child": thread.pupil.first_name,
            "sender": participant.added_by.get_full_name() if participant.added_by else "",
        },
        url=reverse("messaging_thread", kwargs={"thread_id": thread.pk}),
        school_id=thread.school_id,
    )


# (user id, side, role) of someone on a new thread
Person = tuple[int, str, str]


def _participants(
    thread: Thread, actor: Any, people: list[Person], now: dt.datetime
) -> list[Participant]:
    """The rows for the people on a new thread; the author has read it."""
    return [
        Participant(
            thread=thread,
            user_id=user_id,
            side=side,
            role=role,
            added_by=actor,
            joined_at=now,
            last_read_at=now if user_id == actor.pk else None,
        )
        for user_id, side, role in people
    ]


def _first_message(
    *,
    actor: Any,
    pupil: Pupil,
    subject: str,
    body: str,
    sensitive: bool,
    people: list[Person],
    checked: list[CheckedFile],
    idempotency_key: str | None,
) -> tuple[Thread, Message]:
    """A thread with the people on it and its first message."""
    now = clock.now()
    thread = Thread.objects.create(
        school_id=pupil.school_id,
        pupil=pupil,
        subject=subject.strip(),
        sensitive=sensitive,
        created_by=actor,
        created_at=now,
        last_message_at=now,
    )
    Participant.objects.bulk_create(_participants(thread, actor, people, now))
    message = Message.objects.create(
        thread=thread,
        author=actor,
        body=body.strip(),
        idempotency_key=idempotency_key or None,
        created_at=now,
    )
    _store_files(message, checked)
    return thread, message


def _sent_before(actor: Any, idempotency_key: str) -> Message:
    """The message a retry with the same key repeats (the unique key refused the retry)."""
    return Message.objects.select_related("thread__pupil").get(
        author=actor, idempotency_key=idempotency_key
    )


# --- guardians write to the school --------------------------------------------------------


def thread_start_by_guardian(
    *,
    actor: Any,
    pupil_id: int,
    roles: list[str],
    subject: str,
    body: str,
    sensitive: bool = False,
    files: Sequence[UploadedFile] = (),
    idempotency_key: str | None = None,
) -> Thread:
    """A guardian writes about one of their children to the roles they chose: the contact
    teacher, kontor, leiing, and the roles the school allows. A retry with the same
    ``idempotency_key`` (a double tap) returns the first thread."""
    try:
        pupil = selectors.guardian_child(actor=actor, pupil_id=pupil_id)
    except Http404:
        raise PermissionDenied from None
    settings = selectors.settings_of(pupil, pupil.school_id)
    errors = _check_text(subject, body)
    choices = {
        c.role: c for c in selectors.guardian_recipient_choices(pupil=pupil, settings=settings)
    }
    wanted = list(dict.fromkeys(roles))
    if not wanted:
        errors["recipients"] = _("Choose who receives the message.")
    elif any(role not in choices for role in wanted):
        errors["recipients"] = _("You cannot write to the role you chose. Choose from the list.")
    if errors:
        raise ValidationError(errors)
    checked = check_files(files, settings=settings)
    people: list[Person] = [(actor.pk, Side.GUARDIAN, "guardian")]
    seen = {actor.pk}
    for role in wanted:
        for user in choices[role].users:
            if user.pk not in seen:
                seen.add(user.pk)
                people.append((user.pk, Side.STAFF, role))
    try:
        with transaction.atomic():
            thread, message = _first_message(
                actor=actor,
                pupil=pupil,
                subject=subject,
                body=body,
                sensitive=sensitive,
                people=people,
                checked=checked,
                idempotency_key=idempotency_key,
            )
            audit_log(
                actor=actor,
                action="messaging.thread.created",
                obj=thread,
                role="guardian",
                school_id=pupil.school_id,
                detail={"roles": wanted, "recipients": len(people) - 1},
            )
            _tasks().tell_others.enqueue(message_id=message.pk)
    except IntegrityError:
        if not idempotency_key:
            raise
        return _sent_before(actor, idempotency_key).thread
    return thread


# --- the school writes to a family, or to groups ------------------------------------------


def thread_start_by_staff(
    *,
    actor: Any,
    pupil_id: int,
    subject: str,
    body: str,
    sensitive: bool = False,
    files: Sequence[UploadedFile] = (),
    idempotency_key: str | None = None,
) -> Thread:
    """Staff who see the pupil write to the family: to the guardians with parental
    responsibility who may receive information (a restricted guardian of a pupil with a
    protected address never). A retry with the same ``idempotency_key`` returns the first
    thread."""
    try:
        pupil = selectors.staff_pupil(actor=actor, pupil_id=pupil_id)
    except Http404:
        raise PermissionDenied from None
    errors = _check_text(subject, body)
    guardians = selectors.family_recipients(pupil)
    if not guardians:
        errors["recipients"] = _("No guardian of %(name)s can receive messages.") % {
            "name": pupil.full_name
        }
    if errors:
        raise ValidationError(errors)
    checked = check_files(files, settings=selectors.settings_of(pupil, pupil.school_id))
    role = selectors.staff_role_for(actor, pupil)
    people: list[Person] = [(actor.pk, Side.STAFF, role)]
    people += [(g.pk, Side.GUARDIAN, "guardian") for g in guardians if g.pk != actor.pk]
    try:
        with transaction.atomic():
            thread, message = _first_message(
                actor=actor,
                pupil=pupil,
                subject=subject,
                body=body,
                sensitive=sensitive,
                people=people,
                checked=checked,
                idempotency_key=idempotency_key,
            )
            audit_log(
                actor=actor,
                action="messaging.thread.created",
                obj=thread,
                role=role,
                school_id=pupil.school_id,
                detail={"recipients": len(people) - 1, "sensitive": sensitive},
            )
            _tasks().tell_others.enqueue(message_id=message.pk)
    except IntegrityError:
        if not idempotency_key:
            raise
        return _sent_before(actor, idempotency_key).thread
    return thread


def broadcast_send(
    *,
    actor: Any,
    group_ids: list[int],
    subject: str,
    body: str,
    sensitive: bool = False,
    confirmed_count: int | None = None,
    idempotency_key: str | None = None,
) -> Broadcast:
    """Staff write to all guardians of one or more of their groups: one thread per family,
    so a reply stays between that family and the staff. The wrong-recipient guard: a
    sensitive message goes to one family only, and a message to more than one family is
    sent only when the sender confirmed that very count. A retry with the same
    ``idempotency_key`` returns the first broadcast. A group that is not one of the actor's
    is unknown to them (PermissionDenied). The same number of queries however many
    families."""
    if not access.roles_of(actor).is_staff_member:
        raise PermissionDenied
    errors = _check_text(subject, body)
    families = selectors.broadcast_families(
        actor=actor, group_ids=group_ids, with_unreachable=False
    )
    if families.foreign:  # another's group: as if it did not exist
        raise PermissionDenied
    if not group_ids:
        errors["groups"] = _("Choose at least one group.")
    elif families.school_id is None:
        errors["groups"] = _("Choose groups of one school from the list.")
    elif families.count == 0:
        errors["groups"] = _("No guardian in these groups can receive messages.")
    elif sensitive and families.count > 1:
        errors["sensitive"] = _(
            "A sensitive message can go to one family only. Write to each family on its own."
        )
    elif families.count > 1 and confirmed_count != families.count:
        errors["confirmed_count"] = ngettext(
            "Confirm that the message goes to %(count)d family.",
            "Confirm that the message goes to %(count)d families.",
            families.count,
        ) % {"count": families.count}
    if errors:
        raise ValidationError(errors)
    assert families.school_id is not None
    groups = families.groups
    role = selectors.staff_role_at(actor, families.school_id, [g.pk for g in groups])
    now = clock.now()
    try:
        with transaction.atomic():
            broadcast = Broadcast.objects.create(
                school_id=families.school_id,
                created_by=actor,
                subject=subject.strip(),
                family_count=families.count,
                idempotency_key=idempotency_key or None,
                created_at=now,
            )
            broadcast.groups.add(*groups)
            threads = Thread.objects.bulk_create(
                [
                    Thread(
                        school_id=families.school_id,
                        pupil=pupil,
                        broadcast=broadcast,
                        subject=subject.strip(),
                        sensitive=sensitive,
                        created_by=actor,
                        created_at=now,
                        last_message_at=now,
                    )
                    for pupil, _guardians in families.reached
                ]
            )
            rows: list[Participant] = []
            for thread, (_pupil, guardians) in zip(threads, families.reached, strict=True):
                people: list[Person] = [(actor.pk, Side.STAFF, role)]
                # A sender who is also the child's guardian is on the thread once, as staff.
                people += [(g.pk, Side.GUARDIAN, "guardian") for g in guardians if g.pk != actor.pk]
                rows += _participants(thread, actor, people, now)
            Participant.objects.bulk_create(rows)
            Message.objects.bulk_create(
                [
                    Message(thread=thread, author=actor, body=body.strip(), created_at=now)
                    for thread in threads
                ]
            )
            audit_log(
                actor=actor,
                action="messaging.broadcast.sent",
                obj=broadcast,
                role=role,
                school_id=families.school_id,
                detail={"families": families.count, "groups": [g.pk for g in groups]},
            )
            _tasks().tell_families.enqueue(broadcast_id=broadcast.pk)
    except IntegrityError:
        if not idempotency_key:
            raise
        return Broadcast.objects.get(created_by=actor, idempotency_key=idempotency_key)
    return broadcast


# --- in a thread --------------------------------------------------------------------------


def _thread_of(actor: Any, thread_id: int) -> tuple[Thread, Participant]:
    try:
        return selectors.get_thread(actor=actor, thread_id=thread_id)
    except Http404:
        raise PermissionDenied from None


def message_reply(
    *,
    actor: Any,
    thread_id: int,
    body: str,
    files: Sequence[UploadedFile] = (),
    idempotency_key: str | None = None,
) -> Message:
    """Write in a thread one is on. The others are notified, and the thread comes back to
    the inbox of anyone who had archived it. A retry with the same ``idempotency_key``
    returns the first message."""
    thread, me = _thread_of(actor, thread_id)
    errors = _check_text(None, body)
    if errors:
        raise ValidationError(errors)
    checked = check_files(files, settings=selectors.settings_of(me, thread.school_id))
    now = clock.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                thread=thread,
                author=actor,
                body=body.strip(),
                idempotency_key=idempotency_key or None,
                created_at=now,
            )
            _store_files(message, checked)
            Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
            # Back in everyone's inbox; the author has read up to their own message.
            thread.participants.update(
                archived_at=None,
                last_read_at=Case(When(pk=me.pk, then=Value(now)), default=F("last_read_at")),
            )
            audit_log(
                actor=actor,
                action="messaging.message.created",
                obj=message,
                role=me.role,
                school_id=thread.school_id,
                detail={"thread": thread.pk, "attachments": len(checked)},
            )
            _tasks().tell_others.enqueue(message_id=message.pk)
    except IntegrityError:
        if not idempotency_key:
            raise
        return _sent_before(actor, idempotency_key)
    return message


def participant_add(*, actor: Any, thread_id: int, user_id: int) -> Participant:
    """Staff on a thread add a colleague from the same school; the family sees who is on."""
    thread, me = _thread_of(actor, thread_id)
    if me.side != Side.STAFF:
        raise PermissionDenied
    member = (
        StaffMember.objects.filter(
            school_id=thread.school_id, user_id=user_id, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if member is None:
        raise ValidationError({"user": _("Choose a colleague at the school from the list.")})
    role = selectors.staff_role_at(
        member.user, thread.school_id, selectors.class_group_ids(thread.pupil)
    )
    try:
        with transaction.atomic():
            participant = Participant.objects.create(
                thread=thread,
                user=member.user,
                side=Side.STAFF,
                role=role,
                added_by=actor,
                joined_at=clock.now(),
            )
            audit_log(
                actor=actor,
                action="messaging.participant.added",
                obj=thread,
                role=me.role,
                school_id=thread.school_id,
                detail={"user": member.user_id, "role": role},
            )
            _tasks().tell_added.enqueue(participant_id=participant.pk)
    except IntegrityError:  # on the thread already (one row per person and thread)
        raise ValidationError(
            {
                "user": _("%(name)s is on the conversation already.")
                % {"name": member.user.get_full_name()}
            }
        ) from None
    return participant


def thread_mark_read(*, actor: Any, thread_id: int) -> tuple[Thread, Participant]:
    """The actor has seen everything in the thread up to now (their read mark, which the
    senders see as "read"). Reading a sensitive thread is audited. Returns the thread and
    the actor's participation (with its new read mark), for the page that shows it."""
    thread, me = _thread_of(actor, thread_id)
    me.last_read_at = clock.now()
    with transaction.atomic():
        Participant.objects.filter(pk=me.pk).update(last_read_at=me.last_read_at)
        if thread.sensitive:
            audit_log(
                actor=actor,
                action="messaging.thread.read",
                obj=thread,
                role=me.role,
                school_id=thread.school_id,
            )
    return thread, me


def thread_archive(*, actor: Any, thread_id: int, archived: bool) -> None:
    """Archive (or bring back) a thread in the actor's own view; nothing is deleted."""
    thread, me = _thread_of(actor, thread_id)
    with transaction.atomic():
        Participant.objects.filter(pk=me.pk).update(archived_at=clock.now() if archived else None)
        audit_log(
            actor=actor,
            action="messaging.thread.archived" if archived else "messaging.thread.unarchived",
            obj=thread,
            role=me.role,
            school_id=thread.school_id,
        )


def attachment_open(*, actor: Any, attachment_id: int) -> tuple[Attachment, bytes]:
    """The decrypted file, for someone on its thread; every download is audited."""
    try:
        attachment = selectors.get_attachment(actor=actor, attachment_id=attachment_id)
    except Http404:
        raise PermissionDenied from None
    me = Participant.objects.get(thread_id=attachment.message.thread_id, user=actor)
    blob = AttachmentContent.objects.get(attachment=attachment).ciphertext
    data = filetypes.decrypt(bytes(blob), name=str(attachment.uuid))
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="messaging.attachment.downloaded",
            obj=attachment,
            role=me.role,
            school_id=attachment.message.thread.school_id,
            detail={"thread": attachment.message.thread_id},
        )
    return attachment, data


# --- the school's settings ----------------------------------------------------------------


def messaging_settings_save(
    *, actor: Any, school_id: int, guardian_roles: list[str], max_attachment_mb: int
) -> MessagingSettings:
    """The school admin decides which other roles guardians may write to, and the largest
    attachment."""
    if not access.roles_of(actor).has_school_role(school_id, selectors.Role.SCHOOL_ADMIN):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if any(role not in selectors.OPTIONAL_ROLES for role in guardian_roles):
        errors["guardian_roles"] = _("Choose roles from the list.")
    if not 1 <= max_attachment_mb <= 25:
        errors["max_attachment_mb"] = _("Choose between 1 and 25 MB.")
    if errors:
        raise ValidationError(errors)
    roles = [r for r in selectors.OPTIONAL_ROLES if r in guardian_roles]
    with transaction.atomic():
        settings, _created = MessagingSettings.objects.update_or_create(
            school_id=school_id,
            defaults={"guardian_roles": roles, "max_attachment_mb": max_attachment_mb},
        )
        audit_log(
            actor=actor,
            action="messaging.settings.changed",
            obj=settings,
            role=selectors.Role.SCHOOL_ADMIN,
            school_id=school_id,
            detail={"guardian_roles": roles, "max_attachment_mb": max_attachment_mb},
        )
    return settings
