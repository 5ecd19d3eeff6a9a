"""Reads about messages, always scoped by the acting user.

A guardian sees a thread only while they are on it and still see the child (parental
responsibility, protection respected); staff only threads they are on, at their own school.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from kontaktbok.core import clock
from kontaktbok.messaging.models import (
    Attachment,
    Broadcast,
    Message,
    MessagingSettings,
    Participant,
    Thread,
)
from kontaktbok.schools import access
from kontaktbok.schools.models import Group, Guardianship, Pupil, StaffMember, StaffRole
from kontaktbok.schools.selectors import guardians_to_inform, staff_holding, staff_working_hours

Role = StaffRole.Role
Side = Participant.Side

# Guardians may always write to these; the school may allow the optional ones.
ALWAYS_ROLES = [Role.CONTACT_TEACHER, Role.OFFICE, Role.LEADERSHIP]
OPTIONAL_ROLES = [Role.ADVISOR, Role.SOCIAL_TEACHER, Role.HEAD_OF_STAGE, Role.SFO_LEADER]
# The role a staff member writes in, most specific first.
ROLE_ORDER = [
    Role.CONTACT_TEACHER,
    Role.CLASS_TEAM,
    Role.TEACHER,
    Role.LEADERSHIP,
    Role.OFFICE,
    Role.HEAD_OF_STAGE,
    Role.ADVISOR,
    Role.SOCIAL_TEACHER,
    Role.SFO_LEADER,
    Role.SCHOOL_ADMIN,
]
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
INBOX_PAGE_SIZE = 25


def role_label(role: str) -> str:
    """The role's name in the user's language ('guardian' for the family's side)."""
    if role == "guardian":
        return str(Participant.Side.GUARDIAN.label)
    try:
        return str(Role(role).label)
    except ValueError:
        return ""


# --- settings -----------------------------------------------------------------------------


def messaging_settings(school_id: int) -> MessagingSettings:
    """The school's message settings (the defaults until the school saved its own)."""
    found = MessagingSettings.objects.filter(school_id=school_id).first()
    return found or MessagingSettings(school_id=school_id)


def administered_settings(*, actor: Any, school_id: int) -> MessagingSettings:
    """The school admin's own school's settings, or 404."""
    if not access.roles_of(actor).has_school_role(school_id, Role.SCHOOL_ADMIN):
        raise Http404
    return messaging_settings(school_id)


# --- who writes to whom -------------------------------------------------------------------


def guardian_child(*, actor: Any, pupil_id: int) -> Pupil:
    """One of the actor's own children (as guardian), or 404."""
    pupil = access.guardian_pupils(actor).select_related("school").filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    return pupil


def staff_pupil(*, actor: Any, pupil_id: int) -> Pupil:
    """A pupil the actor sees as staff (their groups, or the whole school), or 404."""
    if not access.roles_of(actor).is_staff_member:
        raise Http404
    pupil = (
        Pupil.objects.filter(access.staff_pupil_q(actor))
        .select_related("school")
        .filter(pk=pupil_id)
        .first()
    )
    if pupil is None:
        raise Http404
    return pupil


def class_group_ids(pupil: Pupil) -> list[int]:
    """The pupil's groups this school year (their class, teaching groups, SFO)."""
    return list(
        Group.objects.filter(access.current_year_q(), pupils=pupil).values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class RecipientChoice:
    role: str
    label: str
    users: list[Any]
    default: bool


def guardian_recipient_choices(*, pupil: Pupil) -> list[RecipientChoice]:
    """Whom a guardian may write to about ``pupil``: the contact teacher (chosen by
    default), kontor, leiing, and the roles the school allows; only roles someone holds."""
    allowed = [r for r in messaging_settings(pupil.school_id).guardian_roles if r in OPTIONAL_ROLES]
    group_ids = class_group_ids(pupil)
    choices = []
    for role in [*ALWAYS_ROLES, *[r for r in OPTIONAL_ROLES if r in allowed]]:
        users = staff_holding(pupil.school_id, [role], group_ids)
        if users:
            choices.append(
                RecipientChoice(
                    role=role,
                    label=role_label(role),
                    users=users,
                    default=role == Role.CONTACT_TEACHER,
                )
            )
    return choices


def family_recipients(pupil: Pupil) -> list[Any]:
    """The guardians the school writes to about ``pupil``."""
    return guardians_to_inform(pupil)


def staff_role_at(actor: Any, school_id: int, group_ids: list[int]) -> str:
    """The role in which a staff member writes: their role in the pupil's groups first."""
    roles = access.roles_of(actor)
    held: set[str] = set(roles.school_roles.get(school_id, frozenset()))
    in_groups: set[str] = set()
    for group_id in group_ids:
        in_groups |= roles.group_roles.get(group_id, frozenset())
    for role in ROLE_ORDER:
        if role in in_groups:
            return role
    for role in ROLE_ORDER:
        if role in held and role not in StaffRole.GROUP_ROLES:
            return role
    return next(iter(sorted(held)), "")


def broadcast_groups(*, actor: Any) -> QuerySet[Group]:
    """The groups the actor may write to: their own, or all of a school they see whole."""
    return (
        access.visible_groups(actor)
        .filter(access.current_year_q())
        .select_related("school")
        .order_by("school__name", "grade", "name")
    )


@dataclass
class Families:
    """The families a message to groups reaches: one thread per pupil with someone to
    receive it; pupils whose guardians cannot receive messages are listed apart."""

    school_id: int | None = None
    reached: list[tuple[Pupil, list[Any]]] = field(default_factory=list)
    unreachable: list[Pupil] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reached)


def broadcast_families(*, actor: Any, group_ids: list[int]) -> Families:
    """The pupils of the chosen groups (the actor's own) and their guardians to inform, in
    two queries. The same rule as ``schools.selectors.guardians_to_inform``."""
    groups = list(broadcast_groups(actor=actor).filter(pk__in=group_ids))
    if not groups or len({g.school_id for g in groups}) != 1:
        return Families()
    pupils = list(
        Pupil.objects.filter(groups__in=groups).distinct().order_by("last_name", "first_name")
    )
    guardianships = (
        Guardianship.objects.filter(
            pupil__in=pupils,
            parental_responsibility=True,
            may_receive_information=True,
            guardian__is_active=True,
        )
        .filter(Q(restricted=False) | Q(pupil__protected_address=False))
        .select_related("guardian")
        .order_by("pk")
    )
    by_pupil: dict[int, list[Any]] = {}
    for g in guardianships:
        by_pupil.setdefault(g.pupil_id, []).append(g.guardian)
    families = Families(school_id=groups[0].school_id)
    for pupil in pupils:
        if by_pupil.get(pupil.pk):
            families.reached.append((pupil, by_pupil[pupil.pk]))
        else:
            families.unreachable.append(pupil)
    return families


# --- threads ------------------------------------------------------------------------------


def visible_threads(actor: Any) -> QuerySet[Thread]:
    """Threads the actor is on: a guardian while they still see the child, staff at a
    school where they still work."""
    if access._anonymous(actor):
        return Thread.objects.none()
    roles = access.roles_of(actor)
    on_as_guardian = Participant.objects.filter(
        thread=OuterRef("pk"), user=actor, side=Side.GUARDIAN
    )
    on_as_staff = Participant.objects.filter(thread=OuterRef("pk"), user=actor, side=Side.STAFF)
    return Thread.objects.filter(
        Q(
            Exists(on_as_guardian),
            Q(Exists(access.guardian_pupils(actor).filter(pk=OuterRef("pupil_id")))),
        )
        | Q(Exists(on_as_staff), school_id__in=list(roles.school_roles))
    )


def inbox(*, actor: Any, q: str = "", archived: bool = False) -> QuerySet[Participant]:
    """The actor's threads, newest first, each with its unread count and last message, in
    a constant number of queries however many threads there are. ``q`` searches the
    subject and the messages of the actor's own threads only."""
    messages = Message.objects.filter(thread=OuterRef("thread_id"))
    unread = (
        messages.exclude(author=actor)
        .filter(created_at__gt=Coalesce(OuterRef("last_read_at"), Value(EPOCH)))
        .order_by()
        .values("thread_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    latest = messages.order_by("-created_at", "-pk")
    rows = (
        Participant.objects.filter(user=actor, thread__in=visible_threads(actor))
        .filter(archived_at__isnull=not archived)
        .select_related("thread__pupil", "thread__school")
        .annotate(
            unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
            last_body=Subquery(latest.values("body")[:1]),
            last_author=Subquery(latest.values("author__full_name")[:1]),
            last_at=Subquery(latest.values("created_at")[:1], output_field=DateTimeField()),
        )
        .order_by("-thread__last_message_at", "-thread_id")
    )
    q = q.strip()
    if q:
        rows = rows.filter(
            Q(thread__subject__icontains=q)
            | Q(Exists(Message.objects.filter(thread=OuterRef("thread_id"), body__icontains=q)))
        )
    return rows


def unread_total(*, actor: Any) -> int:
    """How many threads have something the actor has not read."""
    return inbox(actor=actor).filter(unread__gt=0).count()  # type: ignore[misc]


def get_thread(*, actor: Any, thread_id: int) -> tuple[Thread, Participant]:
    """A thread the actor is on, with their own participation, or 404."""
    me = (
        Participant.objects.select_related("thread__pupil", "thread__school")
        .filter(thread__in=visible_threads(actor).filter(pk=thread_id), user=actor)
        .first()
    )
    if me is None:
        raise Http404
    return me.thread, me


@dataclass(frozen=True)
class ReadMark:
    participant: Participant
    read: bool


@dataclass
class MessageRow:
    message: Message
    mine: bool
    read_by: list[ReadMark]


@dataclass
class ThreadView:
    thread: Thread
    me: Participant
    participants: list[Participant]
    rows: list[MessageRow]


def thread_view(*, actor: Any, thread: Thread, me: Participant) -> ThreadView:
    """The thread's participants and messages; for the actor's own messages, who of the
    others has read it (their read mark is at or after the message)."""
    participants = list(thread.participants.select_related("user").order_by("side", "joined_at"))
    messages = (
        thread.messages.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    rows = []
    for message in messages:
        mine = message.author_id == actor.pk
        read_by = []
        if mine:
            read_by = [
                ReadMark(p, p.last_read_at is not None and p.last_read_at >= message.created_at)
                for p in participants
                if p.user_id != actor.pk and p.joined_at <= message.created_at
            ]
        rows.append(MessageRow(message=message, mine=mine, read_by=read_by))
    return ThreadView(thread=thread, me=me, participants=participants, rows=rows)


def colleagues(*, thread: Thread) -> QuerySet[StaffMember]:
    """Staff of the thread's school who are not on it yet (to add one)."""
    on = Participant.objects.filter(thread=thread).values("user_id")
    return (
        StaffMember.objects.filter(school_id=thread.school_id, user__is_active=True)
        .exclude(user_id__in=on)
        .select_related("user")
        .order_by("user__full_name")
    )


@dataclass(frozen=True)
class WorkingHours:
    who: str
    start: dt.time
    end: dt.time


def outside_working_hours(people: list[tuple[str, Any]]) -> list[WorkingHours]:
    """For each (label, staff user) outside their working hours now (evenings, weekends),
    when they answer; empty inside working hours."""
    now = clock.local_now()
    notes: list[WorkingHours] = []
    for who, user in people:
        hours = staff_working_hours(user=user)
        if hours is None:
            continue
        start, end = hours
        if now.weekday() < 5 and start <= now.time() < end:
            continue
        note = WorkingHours(who=who, start=start, end=end)
        if note not in notes:
            notes.append(note)
    return notes


def get_attachment(*, actor: Any, attachment_id: int) -> Attachment:
    """An attachment in a thread the actor is on, or 404."""
    found = (
        Attachment.objects.select_related("message__thread")
        .filter(pk=attachment_id, message__thread__in=visible_threads(actor))
        .first()
    )
    if found is None:
        raise Http404
    return found


def get_broadcast(*, actor: Any, broadcast_id: int) -> Broadcast:
    """A message to groups the actor sent, or 404."""
    found = (
        Broadcast.objects.filter(pk=broadcast_id, created_by=actor)
        .filter(school_id__in=list(access.roles_of(actor).school_roles))
        .first()
    )
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class FamilyStatus:
    thread: Thread
    read: list[ReadMark]
    replies: int


def broadcast_status(*, broadcast: Broadcast) -> list[FamilyStatus]:
    """Per family: who has read the message, and how many replies came back."""
    threads = (
        broadcast.threads.select_related("pupil")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.filter(side=Side.GUARDIAN).select_related("user"),
                to_attr="guardians",
            )
        )
        .annotate(
            replies=Count(
                "messages", filter=~Q(messages__author_id=broadcast.created_by_id), distinct=True
            )
        )
        .order_by("pupil__last_name", "pupil__first_name")
    )
    return [
        FamilyStatus(
            thread=t,
            read=[
                ReadMark(p, p.last_read_at is not None and p.last_read_at >= broadcast.created_at)
                for p in t.guardians
            ],
            replies=t.replies,
        )
        for t in threads
    ]
