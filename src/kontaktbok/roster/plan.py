"""What applying a roster would change at a school: the records compared with what is
stored, in a few queries however large the school. The rules of the sync:

- People and groups are matched by the source system's id (``RosterKey``), else pupils by
  their identity number's digest (or name and birth date), adults by their e-mail address.
- The roster keeps what it names: names, birth dates, classes and groups of this school
  year, guardianships and their flags, staff members' work phone and Feide id, and group
  roles (contact teacher, class team, teacher). Whole-school roles are given by hand.
- Those it named before and names no longer leave: a pupil leaves the school today (kept,
  never deleted), a guardianship ends, a group role ends yesterday. People and groups
  added by hand, and rows refused in this file, are left as they are.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from kontaktbok.roster.models import RosterKey
from kontaktbok.roster.records import (
    ClassRecord,
    GuardianLink,
    GuardianRecord,
    PupilRecord,
    Rejected,
    Roster,
    StaffRecord,
)
from kontaktbok.schools.models import (
    Group,
    Guardianship,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    StaffRole,
)

Kind = RosterKey.Kind
MANAGED_ROLES = frozenset(StaffRole.GROUP_ROLES)
CHUNK = 5000
SHOWN = 200  # names listed per kind of change in the preview


@dataclass
class Plan:
    school: School
    year: SchoolYear
    today: dt.date
    rejected: list[Rejected] = field(default_factory=list)
    # Existing objects by source key (filled further as the apply creates objects).
    group_of: dict[str, int] = field(default_factory=dict)
    pupil_of: dict[str, int] = field(default_factory=dict)
    user_of: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, key) -> user
    member_of: dict[str, int] = field(default_factory=dict)  # staff key -> member
    keys_new: list[tuple[str, str]] = field(default_factory=list)  # (kind, key)
    groups_new: list[ClassRecord] = field(default_factory=list)
    groups_changed: list[tuple[int, ClassRecord]] = field(default_factory=list)
    pupils_new: list[PupilRecord] = field(default_factory=list)
    pupils_changed: list[tuple[int, PupilRecord]] = field(default_factory=list)
    pupils_leaving: list[int] = field(default_factory=list)
    memberships_new: list[tuple[str, str]] = field(default_factory=list)  # group, pupil key
    memberships_ended: list[tuple[int, int]] = field(default_factory=list)  # group, pupil id
    users_new: list[tuple[str, GuardianRecord | StaffRecord]] = field(default_factory=list)
    users_changed: list[tuple[int, GuardianRecord]] = field(default_factory=list)
    guardianships_new: list[tuple[str, GuardianLink]] = field(default_factory=list)
    guardianships_changed: list[tuple[int, GuardianLink]] = field(default_factory=list)
    guardianships_ended: list[int] = field(default_factory=list)
    members_new: list[StaffRecord] = field(default_factory=list)
    members_changed: list[tuple[int, StaffRecord]] = field(default_factory=list)
    roles_new: list[tuple[str, str, str]] = field(default_factory=list)  # staff, role, group
    roles_again: list[int] = field(default_factory=list)
    roles_ended: list[tuple[int, dt.date]] = field(default_factory=list)
    staff_leaving: list[int] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def counts(self) -> dict[str, int]:
        return {
            "classes_new": len(self.groups_new),
            "classes_changed": len(self.groups_changed),
            "pupils_new": len(self.pupils_new),
            "pupils_changed": len(self.pupils_changed),
            "pupils_leaving": len(self.pupils_leaving),
            "memberships_new": len(self.memberships_new),
            "memberships_ended": len(self.memberships_ended),
            "accounts_new": len(self.users_new),
            "guardians_changed": len(self.users_changed),
            "guardianships_new": len(self.guardianships_new),
            "guardianships_changed": len(self.guardianships_changed),
            "guardianships_ended": len(self.guardianships_ended),
            "staff_new": len(self.members_new),
            "staff_changed": len(self.members_changed),
            "staff_leaving": len(self.staff_leaving),
            "roles_new": len(self.roles_new) + len(self.roles_again),
            "roles_ended": len(self.roles_ended),
        }

    def name(self, change: str, text: str) -> None:
        if len(self.names[change]) < SHOWN:
            self.names[change].append(text)


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def make_plan(school: School, year: SchoolYear, roster: Roster, today: dt.date) -> Plan:
    plan = Plan(school=school, year=year, today=today, rejected=list(roster.rejected))
    keys: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, source_id, object_id in RosterKey.objects.filter(school=school).values_list(
        "kind", "source_id", "object_id"
    ):
        keys[kind][source_id] = object_id
    _plan_groups(plan, roster, keys[Kind.GROUP])
    pupils = _plan_pupils(plan, roster, keys[Kind.PUPIL])
    _plan_memberships(plan, pupils, keys[Kind.GROUP])
    guardians = _plan_guardians(plan, roster, keys[Kind.GUARDIAN])
    _plan_guardianships(plan, pupils, guardians, roster, keys[Kind.GUARDIAN])
    _plan_staff(plan, roster, keys[Kind.STAFF], keys[Kind.GROUP])
    return plan


def _plan_groups(plan: Plan, roster: Roster, keyed: dict[str, int]) -> None:
    existing = {
        g["id"]: g
        for g in Group.objects.filter(school_year=plan.year).values("id", "name", "kind", "grade")
    }
    by_name = {g["name"]: g["id"] for g in existing.values()}
    for record in roster.classes:
        group_id = keyed.get(record.key) if keyed.get(record.key) in existing else None
        if group_id is None:  # new, or last year's group: this year's by its name
            group_id = by_name.get(record.name)
            plan.keys_new.append((Kind.GROUP, record.key))
        if group_id is None:
            plan.groups_new.append(record)
            plan.name("classes_new", record.name)
            continue
        plan.group_of[record.key] = group_id
        old = existing[group_id]
        if (old["name"], old["kind"], old["grade"]) != (record.name, record.kind, record.grade):
            plan.groups_changed.append((group_id, record))
            plan.name("classes_changed", record.name)
    # Groups of this year named in rows without a class row of their own (our CSV).
    for name, group_id in by_name.items():
        plan.group_of.setdefault(name, group_id)


def _plan_pupils(plan: Plan, roster: Roster, keyed: dict[str, int]) -> list[PupilRecord]:
    """New, changed and leaving pupils; returns the pupils taken from the file."""
    fields = ("id", "first_name", "last_name", "date_of_birth", "nin_digest", "left_on")
    existing = {p["id"]: p for p in Pupil.objects.filter(school=plan.school).values(*fields)}
    by_nin = {p["nin_digest"]: p["id"] for p in existing.values() if p["nin_digest"]}
    keyed_ids = set(keyed.values())
    by_name = {
        (p["first_name"], p["last_name"], p["date_of_birth"]): p["id"]
        for p in existing.values()
        if p["id"] not in keyed_ids
    }
    digests = [r.nin_digest for r in roster.pupils if r.nin_digest and r.nin_digest not in by_nin]
    elsewhere = set()
    for chunk in _chunks(digests):
        elsewhere |= set(
            Pupil.objects.filter(nin_digest__in=chunk)
            .exclude(school=plan.school)
            .values_list("nin_digest", flat=True)
        )
    known_classes = set(plan.group_of) | {c.key for c in roster.classes}
    taken: list[PupilRecord] = []
    for record in roster.pupils:
        unknown = [g for g in record.groups if g not in known_classes]
        if unknown:
            plan.rejected.append(
                Rejected(roster.source, record.line, "unknown_class", {"value": unknown[0]})
            )
            roster.refused_keys.add(record.key)
            continue
        if record.nin_digest in elsewhere:
            plan.rejected.append(Rejected(roster.source, record.line, "other_school", {}))
            roster.refused_keys.add(record.key)
            continue
        pupil_id = keyed.get(record.key) if keyed.get(record.key) in existing else None
        if pupil_id is None:
            pupil_id = by_nin.get(record.nin_digest or "") or by_name.get(
                (record.first_name, record.last_name, record.date_of_birth)
            )
            plan.keys_new.append((Kind.PUPIL, record.key))
        taken.append(record)
        label = f"{record.first_name} {record.last_name}"
        if pupil_id is None:
            plan.pupils_new.append(record)
            plan.name("pupils_new", label)
            continue
        plan.pupil_of[record.key] = pupil_id
        old = existing[pupil_id]
        now = (record.first_name, record.last_name, record.date_of_birth)
        if (
            now != (old["first_name"], old["last_name"], old["date_of_birth"])
            or (record.nin_digest and record.nin_digest != old["nin_digest"])
            or old["left_on"] is not None
        ):
            plan.pupils_changed.append((pupil_id, record))
            plan.name("pupils_changed", label)
    staying = set(plan.pupil_of.values()) | {keyed[k] for k in roster.refused_keys if k in keyed}
    for pupil_id in set(keyed.values()) - staying:
        old = existing.get(pupil_id)
        if old and old["left_on"] is None:
            plan.pupils_leaving.append(pupil_id)
            plan.name("pupils_leaving", f"{old['first_name']} {old['last_name']}")
    return taken


def _plan_memberships(plan: Plan, pupils: list[PupilRecord], keyed: dict[str, int]) -> None:
    """Joins and leaves in this year's groups the roster keeps (those it names or named)."""
    managed = set(keyed.values()) | set(plan.group_of.values())
    through = Group.pupils.through
    now: dict[int, set[int]] = defaultdict(set)
    for group_id, pupil_id in through.objects.filter(group__school_year=plan.year).values_list(
        "group_id", "pupil_id"
    ):
        now[pupil_id].add(group_id)
    for record in pupils:
        pupil_id = plan.pupil_of.get(record.key)
        held = now.get(pupil_id, set()) if pupil_id else set()
        wanted = {plan.group_of.get(g) for g in record.groups}
        for key in record.groups:
            group_id = plan.group_of.get(key)
            if group_id is None or group_id not in held:
                plan.memberships_new.append((key, record.key))
        for group_id in held & managed:
            if group_id not in wanted:
                plan.memberships_ended.append((group_id, pupil_id))  # type: ignore[arg-type]
    for pupil_id in plan.pupils_leaving:
        plan.memberships_ended.extend((g, pupil_id) for g in now.get(pupil_id, ()))


USER_FIELDS = ("id", "email", "full_name", "phone", "nin_digest")


def _keyed_users(school: School, kind: str) -> dict[int, dict[str, Any]]:
    """The accounts the school's roster keys of ``kind`` point to, by id: one query with a
    subquery, however many (a re-import finds nearly everyone this way)."""
    keys = RosterKey.objects.filter(school=school, kind=kind).values("object_id")
    users = get_user_model().objects.filter(pk__in=keys).values(*USER_FIELDS)
    return {u["id"]: u for u in users}


def _users(emails: list[str], ids: set[int]) -> dict[int, dict[str, Any]]:
    """The accounts with these addresses or ids, by id."""
    users = get_user_model().objects.values(*USER_FIELDS)
    found: dict[int, Any] = {}
    for chunk in _chunks(emails):
        found.update((u["id"], u) for u in users.filter(email__in=chunk))
    for chunk in _chunks(sorted(ids)):
        found.update((u["id"], u) for u in users.filter(pk__in=chunk))
    return found


def _plan_guardians(plan: Plan, roster: Roster, keyed: dict[str, int]) -> list[GuardianRecord]:
    User = get_user_model()
    records = roster.guardians
    users = _keyed_users(plan.school, Kind.GUARDIAN)
    # Only those not found by their key are looked for by identity number and address.
    unkeyed = [r for r in records if keyed.get(r.key) not in users]
    digests = [r.nin_digest for r in unkeyed if r.nin_digest]
    by_nin: dict[str, int] = {}
    for chunk in _chunks(digests):
        rows = User.objects.filter(nin_digest__in=chunk).values_list("nin_digest", "id")
        by_nin.update((digest, pk) for digest, pk in rows if digest)
    emails = [r.email for r in unkeyed if r.email]  # a guardian may have a mobile only
    users.update(_users(emails, set(by_nin.values()) - set(users)))
    by_email = {u["email"]: u["id"] for u in users.values()}
    seen: dict[str, int] = {}
    taken = []
    for record in records:
        other = seen.get(record.email or "-") or seen.get(record.nin_digest or "-")
        if other:
            plan.rejected.append(
                Rejected(roster.source, record.line, "duplicate", {"other": other})
            )
            roster.refused_keys.add(record.key)
            continue
        for identity in (record.email, record.nin_digest):
            if identity:
                seen[identity] = record.line
        user_id = keyed.get(record.key) if keyed.get(record.key) in users else None
        if user_id is None:
            user_id = by_nin.get(record.nin_digest or "-") or by_email.get(record.email or "-")
            plan.keys_new.append((Kind.GUARDIAN, record.key))
        taken.append(record)
        if user_id is None:
            plan.users_new.append((Kind.GUARDIAN, record))
            plan.name("accounts_new", record.full_name)
            continue
        plan.user_of[(Kind.GUARDIAN, record.key)] = user_id
        old = users.get(user_id) or {}
        if (
            old.get("full_name") != record.full_name
            or (record.phone and old.get("phone") != record.phone)
            or (record.nin_digest and not old.get("nin_digest"))
        ):
            plan.users_changed.append((user_id, record))
            plan.name("guardians_changed", record.full_name)
    return taken


def _plan_guardianships(
    plan: Plan,
    pupils: list[PupilRecord],
    guardians: list[GuardianRecord],
    roster: Roster,
    keyed: dict[str, int],
) -> None:
    in_file = {p.key for p in pupils}
    pupil_ids = {plan.pupil_of[k] for k in in_file if k in plan.pupil_of}
    existing: dict[tuple[int, int], Any] = {}
    for g in Guardianship.objects.filter(pupil__school=plan.school).values(
        "id", "guardian_id", "pupil_id", "parental_responsibility", "lives_with_pupil"
    ):
        existing[(g["guardian_id"], g["pupil_id"])] = g
    wanted: set[tuple[int, int]] = set()
    for record in guardians:
        user_id = plan.user_of.get((Kind.GUARDIAN, record.key))
        for link in record.links:
            if link.pupil in roster.refused_keys:
                continue  # the pupil's own row was refused: their guardians stay as they are
            if link.pupil not in in_file:
                plan.rejected.append(
                    Rejected(roster.source, record.line, "unknown_pupil", {"value": link.pupil})
                )
                continue
            pupil_id = plan.pupil_of.get(link.pupil)
            old = existing.get((user_id, pupil_id)) if user_id and pupil_id else None
            if old is None:
                plan.guardianships_new.append((record.key, link))
                continue
            wanted.add((user_id, pupil_id))  # type: ignore[arg-type]
            flags = (link.parental_responsibility, link.lives_with_pupil)
            if flags != (old["parental_responsibility"], old["lives_with_pupil"]):
                plan.guardianships_changed.append((old["id"], link))
    # The file lists every guardian of the pupils it names: a guardian the roster brought
    # and no longer lists for a pupil stops being their guardian (a leaving pupil keeps
    # theirs on record; guardians added by hand are the office's).
    managed = set(keyed.values())
    refused = {keyed[k] for k in roster.refused_keys if k in keyed}
    ending = managed - refused
    for (user_id, pupil_id), old in existing.items():
        if user_id in ending and pupil_id in pupil_ids and (user_id, pupil_id) not in wanted:
            plan.guardianships_ended.append(old["id"])


def _plan_staff(
    plan: Plan, roster: Roster, keyed: dict[str, int], group_keys: dict[str, int]
) -> None:
    members = {
        m["user_id"]: m
        for m in StaffMember.objects.filter(school=plan.school).values(
            "id", "user_id", "work_phone", "feide_id"
        )
    }
    users = _keyed_users(plan.school, Kind.STAFF)
    unkeyed = [r for r in roster.staff if keyed.get(r.key) not in users]
    users.update(_users([r.email for r in unkeyed], set()))
    by_email = {u["email"]: u["id"] for u in users.values()}
    managed_groups = set(group_keys.values()) | set(plan.group_of.values())
    roles: dict[int, dict[tuple[str, int], Any]] = defaultdict(dict)
    for r in StaffRole.objects.filter(
        member__school=plan.school, group__school_year=plan.year, role__in=MANAGED_ROLES
    ).values("id", "member_id", "role", "group_id", "starts_on", "ends_on"):
        roles[r["member_id"]][(r["role"], r["group_id"])] = r
    yesterday = plan.today - dt.timedelta(days=1)
    known_groups = set(plan.group_of) | {c.key for c in plan.groups_new}
    named: set[int] = set()
    for record in roster.staff:
        user_id = keyed.get(record.key) if keyed.get(record.key) in users else None
        if user_id is None:
            user_id = by_email.get(record.email)
            plan.keys_new.append((Kind.STAFF, record.key))
        member = members.get(user_id) if user_id else None
        if user_id is None:
            plan.users_new.append((Kind.STAFF, record))
        else:
            plan.user_of[(Kind.STAFF, record.key)] = user_id
        if member is None:
            plan.members_new.append(record)
            plan.name("staff_new", record.full_name)
        else:
            named.add(member["id"])
            plan.member_of[record.key] = member["id"]
            if (member["work_phone"], member["feide_id"]) != (
                record.phone or member["work_phone"],
                record.feide_id or member["feide_id"],
            ):
                plan.members_changed.append((member["id"], record))
                plan.name("staff_changed", record.full_name)
        held = roles.get(member["id"], {}) if member else {}
        wanted = set()
        for role, group_key in dict.fromkeys(record.roles):
            if group_key not in known_groups:
                plan.rejected.append(
                    Rejected(roster.source, record.line, "unknown_class", {"value": group_key})
                )
                continue
            group_id = plan.group_of.get(group_key)
            old = held.get((role, group_id)) if group_id else None
            wanted.add((role, group_id))
            if old is None:
                plan.roles_new.append((record.key, role, group_key))
            elif old["ends_on"] is not None:
                plan.roles_again.append(old["id"])
        for (role, group_id), old in held.items():
            gone = (role, group_id) not in wanted and group_id in managed_groups
            if gone and old["ends_on"] is None:
                last = max(yesterday, old["starts_on"] or yesterday)
                plan.roles_ended.append((old["id"], last))
    refused = {keyed[k] for k in roster.refused_keys if k in keyed}
    for user_id in set(keyed.values()):
        member = members.get(user_id)
        if member is None or member["id"] in named or user_id in refused:
            continue
        ending = [
            r
            for (_role, g), r in roles.get(member["id"], {}).items()
            if r["ends_on"] is None and g in managed_groups
        ]
        if ending:
            plan.staff_leaving.append(member["id"])
            plan.name("staff_leaving", users[user_id]["full_name"])
            for role in ending:
                last = max(yesterday, role["starts_on"] or yesterday)
                plan.roles_ended.append((role["id"], last))
