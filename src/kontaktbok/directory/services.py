"""Every write to the staff directory: one transaction, an audit entry inside it.

The routine: staff have work phone numbers tied to Teams and never give out private
numbers, so the directory holds work numbers only.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from kontaktbok.core.audit import audit_log
from kontaktbok.directory import rules  # noqa: F401  (registers directory.change_entry)
from kontaktbok.directory.models import DirectoryEntry
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import StaffMember, StaffRole

# Kept on the staff member (schools), shown in the directory.
CONTACT_FIELDS = ("work_phone", "teams_address")
# Kept on the directory entry.
ENTRY_FIELDS = ("office_hours", "listed", "grade_from", "grade_to")
EDITABLE_FIELDS = CONTACT_FIELDS + ENTRY_FIELDS


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    result = dict(data)
    for name in ("work_phone", "teams_address", "office_hours"):
        if name in result:
            result[name] = " ".join(str(result[name] or "").split())
    return result


def _contact_errors(member: StaffMember, data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in CONTACT_FIELDS:
        if name not in data or not data[name]:
            continue
        field = StaffMember._meta.get_field(name)
        assert isinstance(field, models.Field)
        try:
            field.clean(data[name], member)
        except ValidationError as exc:
            errors[name] = exc.messages
    if "work_phone" in errors:
        errors["work_phone"] = [
            _(
                "Enter the work number with 8 to 15 digits, for example +47 57 00 00 00. "
                "Never a private number."
            )
        ]
    return errors


def _entry_errors(entry: DirectoryEntry) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        entry.full_clean(exclude=["member"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        return errors
    if (entry.grade_from is None) != (entry.grade_to is None):
        errors["grade_to"] = [_("Give both the first and the last grade, or neither.")]
    elif (
        entry.grade_from is not None
        and entry.grade_to is not None
        and (entry.grade_from > entry.grade_to)
    ):
        errors["grade_to"] = [_("The last grade cannot come before the first.")]
    return errors


def directory_entry_update(
    *, actor: Any, member: StaffMember, data: dict[str, Any]
) -> DirectoryEntry:
    """The school admin changes a staff member's directory entry: work phone, Teams address,
    office hours, whether guardians see it, and the grades it covers (hovudstegsleiar).
    Only the fields in ``data`` change; all or nothing."""
    if not actor.has_perm("directory.change_entry", member.school):
        raise PermissionDenied
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not a directory field: {sorted(unknown)}")
    data = _normalised(data)
    with transaction.atomic():
        locked = (
            StaffMember.objects.select_for_update()
            .select_related("school", "user")
            .get(pk=member.pk)
        )
        entry = DirectoryEntry.objects.filter(member=locked).first() or DirectoryEntry(
            member=locked
        )
        changed: list[str] = []
        for name in CONTACT_FIELDS:
            if name in data and getattr(locked, name) != data[name]:
                changed.append(name)
        for name in ENTRY_FIELDS:
            if name in data and getattr(entry, name) != data[name]:
                changed.append(name)
                setattr(entry, name, data[name])
        errors = _contact_errors(locked, data) | _entry_errors(entry)
        if errors:
            raise ValidationError(errors)
        if not changed:
            return entry
        if any(name in changed for name in CONTACT_FIELDS):
            school_services.staff_member_set(
                actor=actor,
                school=locked.school,
                user=locked.user,
                title=locked.title,
                work_phone=data.get("work_phone", locked.work_phone),
                teams_address=data.get("teams_address", locked.teams_address),
            )
            for name in CONTACT_FIELDS:
                if name in data:
                    setattr(locked, name, data[name])
        entry.save()
        audit_log(
            actor=actor,
            action="directory.entry.updated",
            obj=entry,
            role=StaffRole.Role.SCHOOL_ADMIN,
            school_id=locked.school_id,
            detail={"member": locked.pk, "changed": sorted(changed)},
        )
    return entry
