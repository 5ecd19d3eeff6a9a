"""JSON API for messages: threads, messages, read status, attachments and messages to groups.

Thin: every call goes through the messaging services and selectors with the caller as actor.
A thread of another family (or one the caller is not on) answers 404; refused input 422 with
the messages per field, in the caller's language.
"""

import contextlib
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from ninja import Field, File, Form, Header, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from kontaktbok.core.api import ERRORS, scoped
from kontaktbok.core.ids import to_id
from kontaktbok.core.ratelimit import throttles
from kontaktbok.messaging import selectors, services
from kontaktbok.messaging.files import MAX_FILES
from kontaktbok.messaging.models import Attachment, Broadcast, Participant, Thread
from kontaktbok.messaging.uploads import limit_api_uploads
from kontaktbok.schools import access

router = Router(tags=["messaging"])


# --- schemas ------------------------------------------------------------------------------


class ParticipantOut(Schema):
    user_id: int
    name: str
    side: str = Field(description="guardian or staff")
    role: str = Field(description="'guardian', or the staff role (contact_teacher, office, ...)")
    role_label: str
    joined_at: dt.datetime
    last_read_at: dt.datetime | None = Field(
        description="Everything up to this moment is read by this person"
    )


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str = Field(description="The type found in the content")
    size: int
    sha256: str
    url: str


class ReadMarkOut(Schema):
    user_id: int
    name: str
    read: bool


class MessageOut(Schema):
    id: int
    author_id: int | None
    author: str
    body: str
    created_at: dt.datetime
    attachments: list[AttachmentOut]
    read_by: list[ReadMarkOut] = Field(
        description="For the caller's own messages: each other participant, read or not"
    )


class ThreadSummaryOut(Schema):
    id: int
    pupil_id: int
    pupil_name: str
    subject: str
    sensitive: bool
    unread: int
    last_message_at: dt.datetime
    last_author: str | None
    archived: bool


class ThreadPageOut(Schema):
    count: int
    page: int
    pages: int
    threads: list[ThreadSummaryOut]


class ThreadOut(Schema):
    id: int
    pupil_id: int
    pupil_name: str
    subject: str
    sensitive: bool
    broadcast_id: int | None
    created_at: dt.datetime
    archived: bool
    participants: list[ParticipantOut]
    messages: list[MessageOut]


class ThreadIn(Schema):
    pupil_id: int
    subject: str = Field(max_length=120)
    body: str = Field(max_length=10_000)
    roles: list[str] = Field(
        default_factory=list,
        description="Guardians: the roles to write to (contact_teacher, office, leadership, "
        "and the roles the school allows). Staff: leave empty; the message goes to the "
        "guardians with parental responsibility who may receive information.",
    )
    sensitive: bool = False


class ArchiveIn(Schema):
    archived: bool = True


class ParticipantIn(Schema):
    user_id: int


class RecipientOut(Schema):
    role: str
    label: str
    names: list[str]
    default: bool


class RecipientsOut(Schema):
    as_guardian: bool
    choices: list[RecipientOut] = Field(description="Guardians: the roles they may write to")
    guardians: list[str] = Field(description="Staff: the guardians who receive the message")


class FamiliesOut(Schema):
    count: int = Field(description="Families (pupils) that get the message: confirm this count")
    pupils: list[str]
    unreachable: list[str] = Field(description="Pupils whose guardians cannot receive messages")


class PreviewQuery(Schema):
    group_ids: list[int] = Field(default_factory=list, description="The groups to write to")


class BroadcastIn(Schema):
    group_ids: list[int]
    subject: str = Field(max_length=120)
    body: str = Field(max_length=10_000)
    sensitive: bool = False
    confirmed_count: int | None = Field(
        None, description="Required for more than one family: the count from the preview"
    )


class FamilyStatusOut(Schema):
    thread_id: int
    pupil_name: str
    read_by: list[ReadMarkOut]
    replies: int


class BroadcastOut(Schema):
    id: int
    subject: str
    family_count: int
    created_at: dt.datetime
    families: list[FamilyStatusOut]


# --- helpers ------------------------------------------------------------------------------


def _attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.pk,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        url=reverse("api-1:message_attachment_download", kwargs={"attachment_id": attachment.pk}),
    )


def _participant_out(p: Participant) -> ParticipantOut:
    return ParticipantOut(
        user_id=p.user_id,
        name=p.user.get_full_name(),
        side=p.side,
        role=p.role,
        role_label=selectors.role_label(p.role),
        joined_at=p.joined_at,
        last_read_at=p.last_read_at,
    )


def _message_out(row: selectors.MessageRow) -> MessageOut:
    return MessageOut(
        id=row.message.pk,
        author_id=row.message.author_id,
        author=row.message.author.get_full_name() if row.message.author else "",
        body=row.message.body,
        created_at=row.message.created_at,
        attachments=[_attachment_out(a) for a in row.message.attachments.all()],
        read_by=[
            ReadMarkOut(
                user_id=mark.participant.user_id,
                name=mark.participant.user.get_full_name(),
                read=mark.read,
            )
            for mark in row.read_by
        ],
    )


def _thread_out(request: HttpRequest, thread: Thread, me: Participant | None = None) -> ThreadOut:
    view = selectors.thread_view(actor=request.user, thread=thread, me=me)
    return ThreadOut(
        id=thread.pk,
        pupil_id=thread.pupil_id,
        pupil_name=thread.pupil.full_name,
        subject=thread.subject,
        sensitive=thread.sensitive,
        broadcast_id=thread.broadcast_id,
        created_at=thread.created_at,
        archived=view.me.archived_at is not None,
        participants=[_participant_out(p) for p in view.participants],
        messages=[_message_out(row) for row in view.rows],
    )


def _get_thread(request: HttpRequest, thread_id: int) -> tuple[Thread, Participant]:
    return selectors.get_thread(actor=request.user, thread_id=thread_id)


# --- threads ------------------------------------------------------------------------------


@router.get("/threads", response={200: ThreadPageOut, **ERRORS})
def message_thread_list(
    request: HttpRequest, q: str = "", archived: bool = False, page: int = 1
) -> Any:
    """The caller's threads, newest first, with unread counts; ``q`` searches the subject and
    messages of the caller's own threads."""
    paginator = Paginator(
        selectors.inbox(actor=request.user, q=q[:100], archived=archived),
        selectors.INBOX_PAGE_SIZE,
    )
    current = paginator.get_page(page)
    return Status(
        200,
        ThreadPageOut(
            count=paginator.count,
            page=current.number,
            pages=paginator.num_pages,
            threads=[
                ThreadSummaryOut(
                    id=row.thread_id,
                    pupil_id=row.thread.pupil_id,
                    pupil_name=row.thread.pupil.full_name,
                    subject=row.thread.subject,
                    sensitive=row.thread.sensitive,
                    unread=row.unread,  # type: ignore[attr-defined]
                    last_message_at=row.thread.last_message_at,
                    last_author=row.last_author,  # type: ignore[attr-defined]
                    archived=row.archived_at is not None,
                )
                for row in current
            ],
        ),
    )


@router.post("/threads", response={201: ThreadOut, **ERRORS}, throttle=throttles("messages.send"))
@scoped
def message_thread_create(
    request: HttpRequest,
    payload: ThreadIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="A retried request with the same key returns the first thread",
    ),
) -> Any:
    """Start a thread about one pupil: a guardian to the roles they choose, staff to the
    pupil's guardians. Attachments are sent with replies."""
    actor = request.user
    thread = None
    if access.roles_of(actor).is_guardian:
        # Not the caller's own child (PermissionDenied): perhaps a pupil they see as staff.
        with contextlib.suppress(PermissionDenied):
            thread = services.thread_start_by_guardian(
                actor=actor,
                pupil_id=payload.pupil_id,
                roles=payload.roles,
                subject=payload.subject,
                body=payload.body,
                idempotency_key=idempotency_key or None,
            )
    if thread is None:
        thread = services.thread_start_by_staff(
            actor=actor,
            pupil_id=payload.pupil_id,
            subject=payload.subject,
            body=payload.body,
            sensitive=payload.sensitive,
            idempotency_key=idempotency_key or None,
        )
    return Status(201, _thread_out(request, thread))


@router.get("/threads/{thread_id}", response={200: ThreadOut, **ERRORS})
@scoped
def message_thread_detail(request: HttpRequest, thread_id: int) -> Any:
    """A thread with its participants, messages, attachments and read status. Reading it
    here does not mark it read: POST ``/read`` for that."""
    return Status(200, _thread_out(request, *_get_thread(request, thread_id)))


def _reply_upload_limit(request: HttpRequest, thread_id: str) -> int:
    try:
        found = to_id(thread_id)
    except ValueError:
        found = 0  # no thread: the default limit, and the operation refuses the path
    return selectors.thread_upload_limit(actor=request.user, thread_id=found)


@router.post(
    "/threads/{thread_id}/messages",
    response={201: MessageOut, **ERRORS},
    throttle=throttles("messages.send"),
)
@decorate_view(
    limit_api_uploads(
        _reply_upload_limit,
        max_files=MAX_FILES,
        field="files",
        message=services.too_large_message,
    )
)
@scoped
def message_reply_create(
    request: HttpRequest,
    thread_id: int,
    body: Form[str],
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="A retried request with the same key returns the first message",
    ),
) -> Any:
    """Reply in a thread (multipart form: ``body`` and any ``files``). A file over the
    school's size limit answers 413 as it arrives, before the body is stored."""
    message = services.message_reply(
        actor=request.user,
        thread_id=thread_id,
        body=body,
        files=list(files or []),
        idempotency_key=idempotency_key or None,
    )
    return Status(201, _message_out(selectors.message_view(actor=request.user, message=message)))


@router.post("/threads/{thread_id}/read", response={204: None, **ERRORS})
@scoped
def message_thread_mark_read(request: HttpRequest, thread_id: int) -> Any:
    """Mark everything in the thread read (the senders see it as read)."""
    services.thread_mark_read(actor=request.user, thread_id=thread_id)
    return Status(204, None)


@router.post("/threads/{thread_id}/archive", response={204: None, **ERRORS})
@scoped
def message_thread_archive(request: HttpRequest, thread_id: int, payload: ArchiveIn) -> Any:
    """Archive the thread in the caller's own view (or bring it back); nothing is deleted."""
    services.thread_archive(actor=request.user, thread_id=thread_id, archived=payload.archived)
    return Status(204, None)


@router.post("/threads/{thread_id}/participants", response={201: ParticipantOut, **ERRORS})
@scoped
def message_participant_add(request: HttpRequest, thread_id: int, payload: ParticipantIn) -> Any:
    """Staff on the thread add a colleague of the same school."""
    participant = services.participant_add(
        actor=request.user, thread_id=thread_id, user_id=payload.user_id
    )
    return Status(201, _participant_out(participant))


@router.get("/attachments/{attachment_id}", response={200: None, **ERRORS})
@scoped
def message_attachment_download(request: HttpRequest, attachment_id: int) -> Any:
    """The file, for someone on its thread; every download is audited."""
    found, data = services.attachment_open(actor=request.user, attachment_id=attachment_id)
    response = HttpResponse(data, content_type=found.content_type)
    response["Content-Disposition"] = content_disposition_header(True, found.filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/pupils/{pupil_id}/recipients", response={200: RecipientsOut, **ERRORS})
@scoped
def message_recipients(request: HttpRequest, pupil_id: int) -> Any:
    """Whom the caller may write to about the pupil: a guardian's choice of roles, or the
    guardians who receive a message from staff."""
    actor = request.user
    if access.guardian_pupils(actor).filter(pk=pupil_id).exists():
        pupil = selectors.guardian_child(actor=actor, pupil_id=pupil_id)
        choices = selectors.guardian_recipient_choices(pupil=pupil)
        return Status(
            200,
            RecipientsOut(
                as_guardian=True,
                choices=[
                    RecipientOut(
                        role=c.role,
                        label=c.label,
                        names=[u.get_full_name() for u in c.users],
                        default=c.default,
                    )
                    for c in choices
                ],
                guardians=[],
            ),
        )
    pupil = selectors.staff_pupil(actor=actor, pupil_id=pupil_id)
    guardians = selectors.family_recipients(pupil)
    return Status(
        200,
        RecipientsOut(
            as_guardian=False, choices=[], guardians=[g.get_full_name() for g in guardians]
        ),
    )


# --- messages to groups -------------------------------------------------------------------


@router.get("/broadcasts/preview", response={200: FamiliesOut, **ERRORS})
@scoped
def message_broadcast_preview(request: HttpRequest, query: Query[PreviewQuery]) -> Any:
    """How many families and which pupils a message to these groups reaches (never the
    guardians' names or addresses)."""
    families = selectors.broadcast_families(actor=request.user, group_ids=query.group_ids)
    return Status(
        200,
        FamiliesOut(
            count=families.count,
            pupils=[p.full_name for p, _users in families.reached],
            unreachable=[p.full_name for p in families.unreachable],
        ),
    )


def _broadcast_out(broadcast: Broadcast) -> BroadcastOut:
    return BroadcastOut(
        id=broadcast.pk,
        subject=broadcast.subject,
        family_count=broadcast.family_count,
        created_at=broadcast.created_at,
        families=[
            FamilyStatusOut(
                thread_id=row.thread.pk,
                pupil_name=row.thread.pupil.full_name,
                read_by=[
                    ReadMarkOut(
                        user_id=m.participant.user_id,
                        name=m.participant.user.get_full_name(),
                        read=m.read,
                    )
                    for m in row.read
                ],
                replies=row.replies,
            )
            for row in selectors.broadcast_status(broadcast=broadcast)
        ],
    )


@router.post(
    "/broadcasts", response={201: BroadcastOut, **ERRORS}, throttle=throttles("messages.group")
)
@scoped
def message_broadcast_create(
    request: HttpRequest,
    payload: BroadcastIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="A retried request with the same key returns the first message",
    ),
) -> Any:
    """Write to all guardians of the caller's groups: one thread per family. More than one
    family needs ``confirmed_count`` equal to the preview's count; a sensitive message
    goes to one family only."""
    broadcast = services.broadcast_send(
        actor=request.user,
        group_ids=payload.group_ids,
        subject=payload.subject,
        body=payload.body,
        sensitive=payload.sensitive,
        confirmed_count=payload.confirmed_count,
        idempotency_key=idempotency_key or None,
    )
    return Status(201, _broadcast_out(broadcast))


@router.get("/broadcasts/{broadcast_id}", response={200: BroadcastOut, **ERRORS})
@scoped
def message_broadcast_detail(request: HttpRequest, broadcast_id: int) -> Any:
    """The sender's read status per family, and how many replied."""
    found = selectors.get_broadcast(actor=request.user, broadcast_id=broadcast_id)
    return Status(200, _broadcast_out(found))
