"""Carry out a plan in bulk writes (a school of 40,000 pupils in a minute). Called inside
the import's transaction by ``services.roster_apply``: all or nothing."""

from collections import defaultdict
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from kontaktbok.roster.models import RosterKey
from kontaktbok.roster.plan import Kind, Plan, _chunks
from kontaktbok.roster.records import GuardianRecord
from kontaktbok.schools.models import Group, Guardianship, Pupil, StaffMember, StaffRole

BATCH = 2000


def execute(plan: Plan) -> None:
    _groups(plan)
    _pupils(plan)
    _memberships(plan)
    _users(plan)
    _guardianships(plan)
    _staff(plan)
    _keys(plan)


def _update(model: Any, changes: list[tuple[int, Any]], fields: list[str], setter: Any) -> None:
    """Load the rows by id, let ``setter(obj, record)`` change them, write them back."""
    for chunk in _chunks(changes):
        objects = model.objects.in_bulk([pk for pk, _record in chunk])
        for pk, record in chunk:
            setter(objects[pk], record)
        model.objects.bulk_update(objects.values(), fields, batch_size=BATCH)


def _groups(plan: Plan) -> None:
    made = Group.objects.bulk_create(
        [
            Group(
                school=plan.school, school_year=plan.year, name=r.name, kind=r.kind, grade=r.grade
            )
            for r in plan.groups_new
        ],
        batch_size=BATCH,
    )
    plan.group_of.update((r.key, g.pk) for r, g in zip(plan.groups_new, made, strict=True))

    def set_group(group: Group, record: Any) -> None:
        group.name, group.kind, group.grade = record.name, record.kind, record.grade

    _update(Group, plan.groups_changed, ["name", "kind", "grade"], set_group)


def _pupils(plan: Plan) -> None:
    made = Pupil.objects.bulk_create(
        [
            Pupil(
                school=plan.school,
                first_name=r.first_name,
                last_name=r.last_name,
                date_of_birth=r.date_of_birth,
                nin_digest=r.nin_digest,
            )
            for r in plan.pupils_new
        ],
        batch_size=BATCH,
    )
    plan.pupil_of.update((r.key, p.pk) for r, p in zip(plan.pupils_new, made, strict=True))

    def set_pupil(pupil: Pupil, record: Any) -> None:
        pupil.first_name, pupil.last_name = record.first_name, record.last_name
        pupil.date_of_birth = record.date_of_birth
        pupil.nin_digest = record.nin_digest or pupil.nin_digest
        pupil.left_on = None

    fields = ["first_name", "last_name", "date_of_birth", "nin_digest", "left_on"]
    _update(Pupil, plan.pupils_changed, fields, set_pupil)
    for chunk in _chunks(plan.pupils_leaving):
        Pupil.objects.filter(pk__in=chunk).update(left_on=plan.today)


def _memberships(plan: Plan) -> None:
    through = Group.pupils.through
    through.objects.bulk_create(
        [
            through(group_id=plan.group_of[group], pupil_id=plan.pupil_of[pupil])
            for group, pupil in plan.memberships_new
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    by_group: dict[int, list[int]] = defaultdict(list)
    for group_id, pupil_id in plan.memberships_ended:
        by_group[group_id].append(pupil_id)
    for group_id, pupil_ids in by_group.items():
        for chunk in _chunks(pupil_ids):
            through.objects.filter(group_id=group_id, pupil_id__in=chunk).delete()


def _users(plan: Plan) -> None:
    User = get_user_model()
    # A guardian who also works at the school: one account. A guardian with a mobile
    # number only has an account of their own, without an address.
    by_email: dict[str, Any] = {}
    for kind, record in plan.users_new:
        identity = record.email or f"{kind}:{record.key}"
        user = by_email.get(identity)
        if user is None:
            user = User(email=record.email or None, full_name=record.full_name)
            user.set_unusable_password()
            by_email[identity] = user
        if isinstance(record, GuardianRecord):
            user.phone = record.phone
            user.nin_digest = record.nin_digest
    made = User.objects.bulk_create(list(by_email.values()), batch_size=BATCH)
    for kind, record in plan.users_new:
        plan.user_of[(kind, record.key)] = by_email[record.email or f"{kind}:{record.key}"].pk
    # The school registered the address: it counts as verified, as for accounts kontor makes.
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in made if u.email],
        batch_size=BATCH,
    )

    def set_user(user: Any, record: GuardianRecord) -> None:
        user.full_name = record.full_name
        user.phone = record.phone or user.phone
        user.nin_digest = user.nin_digest or record.nin_digest

    _update(User, plan.users_changed, ["full_name", "phone", "nin_digest"], set_user)


def _guardianships(plan: Plan) -> None:
    Guardianship.objects.bulk_create(
        [
            Guardianship(
                guardian_id=plan.user_of[(Kind.GUARDIAN, key)],
                pupil_id=plan.pupil_of[link.pupil],
                parental_responsibility=link.parental_responsibility,
                lives_with_pupil=link.lives_with_pupil,
                may_receive_information=link.parental_responsibility,
            )
            for key, link in plan.guardianships_new
        ],
        batch_size=BATCH,
    )

    def set_flags(item: Guardianship, link: Any) -> None:
        item.parental_responsibility = link.parental_responsibility
        item.lives_with_pupil = link.lives_with_pupil
        item.may_receive_information = link.parental_responsibility

    fields = ["parental_responsibility", "lives_with_pupil", "may_receive_information"]
    _update(Guardianship, plan.guardianships_changed, fields, set_flags)
    for chunk in _chunks(plan.guardianships_ended):
        Guardianship.objects.filter(pk__in=chunk).delete()


def _staff(plan: Plan) -> None:
    made = StaffMember.objects.bulk_create(
        [
            StaffMember(
                school=plan.school,
                user_id=plan.user_of[(Kind.STAFF, r.key)],
                work_phone=r.phone,
                feide_id=r.feide_id,
            )
            for r in plan.members_new
        ],
        batch_size=BATCH,
    )
    plan.member_of.update((r.key, m.pk) for r, m in zip(plan.members_new, made, strict=True))

    def set_member(member: StaffMember, record: Any) -> None:
        member.work_phone = record.phone or member.work_phone
        member.feide_id = record.feide_id or member.feide_id

    _update(StaffMember, plan.members_changed, ["work_phone", "feide_id"], set_member)
    StaffRole.objects.bulk_create(
        [
            StaffRole(member_id=plan.member_of[key], role=role, group_id=plan.group_of[group])
            for key, role, group in plan.roles_new
        ],
        batch_size=BATCH,
    )
    for chunk in _chunks(plan.roles_again):
        StaffRole.objects.filter(pk__in=chunk).update(ends_on=None)
    by_day: dict[Any, list[int]] = defaultdict(list)
    for role_id, last_day in plan.roles_ended:
        by_day[last_day].append(role_id)
    for last_day, role_ids in by_day.items():
        for chunk in _chunks(role_ids):
            StaffRole.objects.filter(pk__in=chunk).update(ends_on=last_day)


def _keys(plan: Plan) -> None:
    objects: dict[str, dict[str, int]] = {
        Kind.GROUP: plan.group_of,
        Kind.PUPIL: plan.pupil_of,
        Kind.GUARDIAN: {k: v for (kind, k), v in plan.user_of.items() if kind == Kind.GUARDIAN},
        Kind.STAFF: {k: v for (kind, k), v in plan.user_of.items() if kind == Kind.STAFF},
    }
    RosterKey.objects.bulk_create(
        [
            RosterKey(school=plan.school, kind=kind, source_id=key, object_id=objects[kind][key])
            for kind, key in dict.fromkeys(plan.keys_new)
            if key in objects[kind]
        ],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["school", "kind", "source_id"],
        update_fields=["object_id"],
    )
