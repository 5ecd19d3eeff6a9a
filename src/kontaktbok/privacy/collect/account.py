"""The person's own records: the account and how they log in, their work as staff, their
notifications and settings, and their earlier requests for a copy."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db.models import Prefetch, Q
from django.utils import translation

from kontaktbok.absence.models import DailyCheck
from kontaktbok.accounts.invitations import KIND as INVITATION_KIND
from kontaktbok.accounts.models import User
from kontaktbok.core.models import AuditEntry
from kontaktbok.notifications.models import (
    Delivery,
    DigestChoice,
    Notification,
    Preference,
    PushSubscription,
)
from kontaktbok.notifications.templatetags.notifications import (
    notification_body,
    notification_title,
)
from kontaktbok.privacy.collect.common import clock_time, day, when
from kontaktbok.privacy.models import DataExport
from kontaktbok.roster.models import RosterKey
from kontaktbok.schools import access
from kontaktbok.schools.models import Guardianship, School, StaffMember, StaffRole

# Kinds whose link carries a one-time secret (the invitation's token): left out.
LINK_IS_A_SECRET = frozenset({INVITATION_KIND})


def hidden_school_ids(person: User) -> set[int]:
    """Schools kept from the person: those of a pupil with a protected address whose
    guardianship marks them restricted, unless they see the school otherwise (another
    child there, work). Records tied to these schools leave out the school."""
    kept_from = set(
        Guardianship.objects.filter(
            guardian=person, restricted=True, pupil__protected_address=True
        ).values_list("pupil__school_id", flat=True)
    )
    if not kept_from:
        return set()
    return kept_from - set(access.visible_schools(person).values_list("pk", flat=True))


def _school_names(ids: set[int], hidden: set[int]) -> dict[int, str]:
    return dict(School.objects.filter(pk__in=ids - hidden).values_list("pk", "name"))


def account(person: User, hidden: set[int]) -> dict[str, Any]:
    """The account as stored, without the password hash or the identity number's digest."""
    invitations = list(person.invitations.order_by("sent_at", "pk"))
    roster_keys = list(
        RosterKey.objects.filter(
            kind__in=[RosterKey.Kind.GUARDIAN, RosterKey.Kind.STAFF], object_id=person.pk
        ).order_by("pk")
    )
    schools = _school_names(
        {i.school_id for i in invitations} | {k.school_id for k in roster_keys}, hidden
    )
    return {
        "id": person.pk,
        "email": person.email or "",
        "full_name": person.full_name,
        "phone": person.phone,
        "language": person.language,
        "is_active": person.is_active,
        "created_at": when(person.date_joined),
        "last_login": when(person.last_login),
        "has_password": person.has_usable_password(),
        "has_identity_number": bool(person.nin_digest),
        "technical_admin": {
            "is_staff": person.is_staff,
            "is_superuser": person.is_superuser,
            "groups": sorted(person.groups.values_list("name", flat=True)),
            "permissions": sorted(
                f"{app}.{codename}"
                for app, codename in person.user_permissions.values_list(
                    "content_type__app_label", "codename"
                )
            ),
        },
        "email_addresses": [
            {"email": a.email, "primary": a.primary, "verified": a.verified}
            for a in EmailAddress.objects.filter(user=person).order_by("pk")
        ],
        "second_factors": [
            {
                "kind": a.type,
                "created_at": when(a.created_at),
                "last_used_at": when(a.last_used_at),
            }
            for a in Authenticator.objects.filter(user=person).order_by("pk")
        ],
        "invitations": [
            {
                "school": schools.get(i.school_id),
                "sent_at": when(i.sent_at),
                "valid_until": when(i.expires_at),
                "used_at": when(i.used_at),
            }
            for i in invitations
        ],
        "roster_ids": [
            {"school": schools.get(k.school_id), "kind": k.kind, "source_id": k.source_id}
            for k in roster_keys
            if k.school_id not in hidden
        ],
        "history": history(person),
    }


def history(person: User) -> list[dict[str, Any]]:
    """The audit log's entries about the account itself (made, invited, logged in, ...),
    the person's requests for a copy of their data, and their changes to how they are
    notified. What they did at work, about others, is not about them and stays out."""
    own_account = Q(object_type=person._meta.label_lower, object_id=str(person.pk))
    own_invitations = Q(
        object_type="accounts.invitation",
        object_id__in=[str(pk) for pk in person.invitations.values_list("pk", flat=True)],
    )
    own_exports = Q(
        object_type=DataExport._meta.label_lower,
        object_id__in=[
            str(pk) for pk in DataExport.objects.filter(person=person).values_list("pk", flat=True)
        ],
    )
    own_settings = Q(actor=person) & Q(
        Q(action__startswith="notifications.preferences.")
        | Q(action__startswith="notifications.push.")
    )
    entries = AuditEntry.objects.filter(
        own_account | own_invitations | own_exports | own_settings
    ).order_by("created_at", "pk")
    return [
        {
            "at": when(entry.created_at),
            "action": entry.action,
            "by_self": entry.actor_id == person.pk,
            "detail": entry.detail,
        }
        for entry in entries
    ]


def staff(person: User) -> list[dict[str, Any]]:
    """Where the person works or has worked: work contact details, directory entry, roles."""
    members = (
        StaffMember.objects.filter(user=person)
        .select_related("school", "directory_entry")
        .prefetch_related(
            Prefetch("roles", queryset=StaffRole.objects.select_related("group").order_by("pk"))
        )
        .order_by("pk")
    )
    rows = []
    for member in members:
        entry = getattr(member, "directory_entry", None)
        rows.append(
            {
                "school": member.school.name,
                "title": member.title,
                "work_phone": member.work_phone,
                "teams_address": member.teams_address,
                "feide_id": member.feide_id,
                "working_hours": {
                    "start": clock_time(member.work_start),
                    "end": clock_time(member.work_end),
                },
                "directory": None
                if entry is None
                else {
                    "listed": entry.listed,
                    "office_hours": entry.office_hours,
                    "grade_from": entry.grade_from,
                    "grade_to": entry.grade_to,
                },
                "roles": [
                    {
                        "role": role.role,
                        "role_name": str(role.get_role_display()),
                        "group": role.group.name if role.group else None,
                        "starts_on": day(role.starts_on),
                        "ends_on": day(role.ends_on),
                    }
                    for role in member.roles.all()
                ],
            }
        )
    return rows


def work(person: User) -> dict[str, Any]:
    """Records of the person's own work that hold no pupil: the daily checks they made."""
    checks = DailyCheck.objects.filter(checked_by=person).select_related("group__school")
    return {
        "daily_checks": [
            {
                "school": check.group.school.name,
                "group": check.group.name,
                "date": day(check.date),
                "checked_at": when(check.checked_at),
            }
            for check in checks.order_by("date", "pk")
        ]
    }


def notifications(person: User, hidden: set[int], language: str) -> dict[str, Any]:
    """What the person has been told and how it was sent, and their choices."""
    items = (
        Notification.objects.filter(recipient=person)
        .exclude(school_id__in=hidden)
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )
    with translation.override(language):
        rows = [
            {
                "kind": n.kind,
                "title": notification_title(n),
                "text": notification_body(n),
                "urgent": n.urgent,
                "link": "" if n.kind in LINK_IS_A_SECRET else n.url,
                "created_at": when(n.created_at),
                "read_at": when(n.read_at),
                "deliveries": [
                    {
                        "channel": d.channel,
                        "to": d.target if d.channel != "push" else "",
                        "status": d.status,
                        "attempts": d.attempts,
                        "due_at": when(d.due_at),
                        "delivered_at": when(d.delivered_at),
                    }
                    for d in n.deliveries.all()
                ],
            }
            for n in items
        ]
    digest = DigestChoice.objects.filter(user=person).first()
    return {
        "items": rows,
        "preferences": [
            {"kind": p.kind, "email": p.email, "push": p.push, "sms": p.sms}
            for p in Preference.objects.filter(user=person).order_by("kind")
        ],
        "daily_digest": bool(digest and digest.enabled),
        "push_devices": [
            {"device": s.device, "created_at": when(s.created_at)}
            for s in PushSubscription.objects.filter(user=person).order_by("pk")
        ],
    }


def exports(person: User) -> list[dict[str, Any]]:
    return [
        {
            "requested_at": when(e.requested_at),
            "status": e.status,
            "ready_at": when(e.ready_at),
            "offered_until": when(e.expires_at),
            "downloaded_at": when(e.downloaded_at),
            "file_deleted_at": when(e.deleted_at),
        }
        for e in DataExport.objects.filter(person=person).order_by("requested_at", "pk")
    ]
