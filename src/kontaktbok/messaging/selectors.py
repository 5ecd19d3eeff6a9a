"""Reads about messages, always scoped by the acting user.

A guardian sees a thread only while they are on it and still see the child (parental
responsibility, protection respected); staff only threads they are on, at their own school.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    Expression,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
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
from kontaktbok.schools.selectors import guardians_to_inform, staff_working_hours_of

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


def _settings_columns(school_id: str) -> dict[str, Subquery]:
    """The school's message settings as two columns of a query about something at that
    school (``school_id`` names its school's id there), so that a write reads them with its
    access check instead of on their own; ``settings_of`` turns them back."""
    found = MessagingSettings.objects.filter(school_id=OuterRef(school_id))
    return {
        "settings_guardian_roles": Subquery(
            found.values("guardian_roles")[:1], output_field=JSONField()
        ),
        "settings_max_attachment_mb": Subquery(found.values("max_attachment_mb")[:1]),
    }


def settings_of(row: Any, school_id: int) -> MessagingSettings:
    """The settings of ``school_id`` read as columns of ``row`` (a pupil from
    ``guardian_child`` or ``staff_pupil``, or the participation from ``get_thread``)."""
    settings = MessagingSettings(school_id=school_id)
    if row.settings_max_attachment_mb is not None:
        settings.guardian_roles = row.settings_guardian_roles
        settings.max_attachment_mb = row.settings_max_attachment_mb
    return settings


def _upload_limit(school_ids: QuerySet[Any]) -> int:
    max_mb = (
        MessagingSettings.objects.filter(school_id__in=school_ids)
        .values_list("max_attachment_mb", flat=True)
        .first()
    )
    return (max_mb or MessagingSettings().max_attachment_mb) * 1024 * 1024


def pupil_upload_limit(*, actor: Any, pupil_id: int) -> int:
    """The largest attachment in bytes when writing about a pupil the actor sees."""
    return _upload_limit(access.visible_pupils(actor).filter(pk=pupil_id).values("school_id"))


def thread_upload_limit(*, actor: Any, thread_id: int) -> int:
    """The largest attachment in bytes when replying in a thread the actor is on."""
    return _upload_limit(visible_threads(actor).filter(pk=thread_id).values("school_id"))


def administered_settings(*, actor: Any, school_id: int) -> MessagingSettings:
    """The school admin's own school's settings, or 404."""
    if not access.roles_of(actor).has_school_role(school_id, Role.SCHOOL_ADMIN):
        raise Http404
    return messaging_settings(school_id)


# --- who writes to whom -------------------------------------------------------------------


def guardian_child(*, actor: Any, pupil_id: int) -> Pupil:
    """One of the actor's own children (as guardian), or 404; with the school's message
    settings (``settings_of``)."""
    pupil = (
        access.guardian_pupils(actor)
        .select_related("school")
        .annotate(**_settings_columns("school_id"))
        .filter(pk=pupil_id)
        .first()
    )
    if pupil is None:
        raise Http404
    return pupil


def _role_in_groups(actor: Any) -> Expression:
    """The actor's most specific role (``ROLE_ORDER``) in a group that the pupil of the
    outer query is in this school year; '' if none."""
    group_roles = access.roles_of(actor).group_roles
    cases = []
    for role in ROLE_ORDER:
        group_ids = [group_id for group_id, held in group_roles.items() if role in held]
        if group_ids:
            pupils_groups = Group.objects.filter(
                access.current_year_q(), pk__in=group_ids, pupils=OuterRef("pk")
            )
            cases.append(When(Exists(pupils_groups), then=Value(role)))
    if not cases:
        return Value("", output_field=CharField())
    return Case(*cases, default=Value(""), output_field=CharField())


def staff_pupil(*, actor: Any, pupil_id: int) -> Pupil:
    """A pupil the actor sees as staff (their groups, or the whole school), or 404; with the
    school's message settings (``settings_of``) and the role in which the actor
    writes about them (``staff_role_for``)."""
    if not access.roles_of(actor).is_staff_member:
        raise Http404
    pupil = (
        Pupil.objects.filter(access.staff_pupil_q(actor))
        .select_related("school")
        .annotate(**_settings_columns("school_id"), role_in_groups=_role_in_groups(actor))
        .filter(pk=pupil_id)
        .first()
    )
    if pupil is None:
        raise Http404
    return pupil


def staff_role_for(actor: Any, pupil: Pupil) -> str:
    """The role in which staff write about a pupil from ``staff_pupil``."""
    return pupil.role_in_groups or staff_role_at(actor, pupil.school_id, [])  # type: ignore[attr-defined]


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


def _staff_by_role(pupil: Pupil, roles: Sequence[str]) -> dict[str, list[Any]]:
    """Active users holding each of ``roles`` at the pupil's school (group roles: in the
    pupil's groups this school year), in one query; the rule of
    ``schools.selectors.staff_holding``, per role."""
    pupils_groups = Group.objects.filter(access.current_year_q(), pupils=pupil).values("pk")
    school_roles = [r for r in roles if r not in StaffRole.GROUP_ROLES]
    group_roles = [r for r in roles if r in StaffRole.GROUP_ROLES]
    rows = (
        StaffRole.objects.in_force()
        .filter(
            Q(role__in=school_roles, group__isnull=True)
            | Q(role__in=group_roles, group__in=pupils_groups),
            member__school_id=pupil.school_id,
            member__user__is_active=True,
        )
        .select_related("member__user")
    )
    by_role: dict[str, dict[int, Any]] = {}
    for row in rows.order_by("pk"):
        by_role.setdefault(row.role, {}).setdefault(row.member.user_id, row.member.user)
    return {role: list(users.values()) for role, users in by_role.items()}


def guardian_recipient_choices(
    *, pupil: Pupil, settings: MessagingSettings | None = None
) -> list[RecipientChoice]:
    """Whom a guardian may write to about ``pupil``: the contact teacher (chosen by
    default), kontor, leiing, and the roles the school allows; only roles someone holds.
    ``settings``: the school's message settings, if read already."""
    settings = settings or messaging_settings(pupil.school_id)
    allowed = [r for r in OPTIONAL_ROLES if r in settings.guardian_roles]
    roles = [*ALWAYS_ROLES, *allowed]
    holders = _staff_by_role(pupil, roles)
    return [
        RecipientChoice(
            role=role,
            label=role_label(role),
            users=holders[role],
            default=role == Role.CONTACT_TEACHER,
        )
        for role in roles
        if holders.get(role)
    ]


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
    groups: list[Group] = field(default_factory=list)
    reached: list[tuple[Pupil, list[Any]]] = field(default_factory=list)
    unreachable: list[Pupil] = field(default_factory=list)
    foreign: bool = False  # a group asked for is not one the actor may write to

    @property
    def count(self) -> int:
        return len(self.reached)


def broadcast_families(
    *, actor: Any, group_ids: list[int], with_unreachable: bool = True
) -> Families:
    """The pupils of the chosen groups and their guardians to inform, in three queries (two
    without listing the pupils nobody can be told about). Every group must be one of the
    actor's, all at one school; the guardians by ``Guardianship.objects.to_inform()``."""
    groups = list(broadcast_groups(actor=actor).filter(pk__in=group_ids))
    if len(groups) != len(set(group_ids)):
        return Families(foreign=True)
    if not groups or len({g.school_id for g in groups}) != 1:
        return Families()
    pupils = Pupil.objects.filter(groups__in=groups)
    guardianships = (
        Guardianship.objects.to_inform()
        .filter(pupil__in=pupils)
        .select_related("guardian", "pupil")
        .order_by("pupil__last_name", "pupil__first_name", "pupil_id", "pk")
    )
    families = Families(school_id=groups[0].school_id, groups=groups)
    by_pupil: dict[int, list[Any]] = {}
    for g in guardianships:
        if g.pupil_id not in by_pupil:
            by_pupil[g.pupil_id] = []
            families.reached.append((g.pupil, by_pupil[g.pupil_id]))
        by_pupil[g.pupil_id].append(g.guardian)
    if with_unreachable:
        families.unreachable = list(
            pupils.exclude(pk__in=list(by_pupil))
            .distinct()
            .order_by("last_name", "first_name", "pk")
        )
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
    """A thread the actor is on, with their own participation (and on it, the school's
    message settings: ``settings_of``), or 404."""
    me = (
        Participant.objects.select_related("thread__pupil", "thread__school")
        .annotate(**_settings_columns("thread__school_id"))
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


def _participants(thread_id: int) -> list[Participant]:
    return list(
        Participant.objects.filter(thread_id=thread_id)
        .select_related("user")
        .order_by("side", "joined_at")
    )


def _row(actor: Any, message: Message, participants: list[Participant]) -> MessageRow:
    """For the actor's own message, who of the others has read it (their read mark is at
    or after the message)."""
    mine = message.author_id == actor.pk
    read_by = []
    if mine:
        read_by = [
            ReadMark(p, p.last_read_at is not None and p.last_read_at >= message.created_at)
            for p in participants
            if p.user_id != actor.pk and p.joined_at <= message.created_at
        ]
    return MessageRow(message=message, mine=mine, read_by=read_by)


def thread_view(*, actor: Any, thread: Thread, me: Participant | None = None) -> ThreadView:
    """The thread's participants and messages, with read marks on the actor's own;
    ``me``: the actor's participation, if read already."""
    participants = _participants(thread.pk)
    if me is None:
        me = next(p for p in participants if p.user_id == actor.pk)
    messages = (
        thread.messages.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    rows = [_row(actor, message, participants) for message in messages]
    return ThreadView(thread=thread, me=me, participants=participants, rows=rows)


def message_view(*, actor: Any, message: Message) -> MessageRow:
    """One message with its attachments and, if the actor's own, its read marks."""
    prefetch_related_objects(
        [message], Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    return _row(actor, message, _participants(message.thread_id))


def staff_of_my_schools(*, actor: Any) -> QuerySet[StaffMember]:
    """Active staff of the schools where the actor works (to read which colleague was
    chosen; ``services.participant_add`` checks they work at the thread's school)."""
    schools = list(access.roles_of(actor).school_roles)
    return StaffMember.objects.filter(school_id__in=schools, user__is_active=True).select_related(
        "user"
    )


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
    if not people:
        return notes
    working_hours = staff_working_hours_of({user.pk for _who, user in people})
    for who, user in people:
        hours = working_hours.get(user.pk)
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
    """Per family: who has read the message, and how many replies came back; one query
    (read from the guardians on the threads: every family's thread has its guardians)."""
    replies = (
        Message.objects.filter(thread=OuterRef("thread_id"))
        .exclude(author_id=broadcast.created_by_id)
        .order_by()
        .values("thread_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    guardians = (
        Participant.objects.filter(thread__broadcast=broadcast, side=Side.GUARDIAN)
        .select_related("thread__pupil", "user")
        .annotate(replies=Coalesce(Subquery(replies, output_field=IntegerField()), 0))
        .order_by("thread__pupil__last_name", "thread__pupil__first_name", "thread_id", "pk")
    )
    families: dict[int, FamilyStatus] = {}
    for p in guardians:
        if p.thread_id not in families:
            families[p.thread_id] = FamilyStatus(thread=p.thread, read=[], replies=p.replies)
        read = p.last_read_at is not None and p.last_read_at >= broadcast.created_at
        families[p.thread_id].read.append(ReadMark(p, read))
    return list(families.values())
