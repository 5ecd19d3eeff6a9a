"""The leave rules: the municipality's regulation and the school's own."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.leave import selectors
from kontaktbok.leave.models import (
    LeaveRules,
)
from kontaktbok.leave.services.common import (
    Role,
)
from kontaktbok.schools.models import Municipality, School

RULES_FIELDS = (
    "contact_teacher_max_days",
    "principal_max_days",
    "max_days_per_year",
    "lead_time_days",
    "religious_holidays_right",
    "regulation_name",
    "regulation_url",
    "rules_text",
    "appeal_body",
)


def _apply_rules(item: LeaveRules, data: dict[str, Any]) -> dict[str, list[str]]:
    unknown = set(data) - set(RULES_FIELDS)
    if unknown:
        raise ValueError(f"not a leave rule: {sorted(unknown)}")
    changed = {}
    for name, value in data.items():
        if getattr(item, name) != value:
            changed[name] = [str(getattr(item, name))[:60], str(value)[:60]]
            setattr(item, name, value)
    if item.contact_teacher_max_days > item.principal_max_days:
        raise ValidationError(
            {
                "contact_teacher_max_days": _(
                    "The contact teacher cannot decide longer leave than the principal."
                )
            }
        )
    item.updated_at = clock.now()
    item.full_clean()
    item.save()
    return changed


def municipality_leave_rules_set(
    *, actor: Any, municipality: Municipality, data: dict[str, Any]
) -> LeaveRules:
    """The municipality's regulation as settings (set by the operator or the demo)."""
    with transaction.atomic():
        item = (
            LeaveRules.objects.select_for_update()
            .filter(municipality=municipality, school__isnull=True)
            .first()
        )
        if item is None:
            item = LeaveRules(
                municipality=municipality,
                regulation_name=_("Regulation on leave from teaching, %(municipality)s")
                % {"municipality": municipality.name},
            )
        changed = _apply_rules(item, data)
        audit_log(
            actor=actor,
            action="leave.rules.updated",
            obj=item,
            detail={"changed": changed, "municipality": municipality.pk},
        )
    return item


def leave_rules_save(*, actor: Any, school: School, data: dict[str, Any]) -> LeaveRules:
    """The school admin sets the school's leave rules (overriding the municipality's)."""
    if not actor.has_perm("schools.change_school_settings", school):
        raise PermissionDenied
    with transaction.atomic():
        item = LeaveRules.objects.select_for_update().filter(school=school).first()
        if item is None:
            current = selectors.rules_for(school)
            item = LeaveRules(municipality_id=school.municipality_id, school=school)
            for name in RULES_FIELDS:
                setattr(item, name, getattr(current, name))
        changed = _apply_rules(item, data)
        audit_log(
            actor=actor,
            action="leave.rules.updated",
            obj=item,
            role=Role.SCHOOL_ADMIN,
            school_id=school.pk,
            detail={"changed": changed},
        )
    return item
