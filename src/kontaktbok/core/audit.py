"""Writing the audit log. Services call ``audit_log`` inside their own transaction."""

from typing import Any

from django.db import models

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry

# Keys that must never reach the log, whatever a caller passes.
FORBIDDEN_DETAIL_KEYS = frozenset(
    {
        "password",
        "secret",
        "token",
        "nin",
        "national_id",
        "national_identity_number",
        "otp",
        "recovery_code",
    }
)


class AuditDetailError(ValueError):
    pass


def _check_detail(detail: dict[str, Any]) -> None:
    for key, value in detail.items():
        if key.lower() in FORBIDDEN_DETAIL_KEYS:
            raise AuditDetailError(f"'{key}' may not be written to the audit log")
        if isinstance(value, dict):
            _check_detail(value)


def _pupil_of(obj: models.Model | None) -> int | None:
    """The pupil an entry is about: the object itself, or the object's pupil."""
    if obj is None:
        return None
    if obj._meta.label_lower == "schools.pupil":
        return int(obj.pk)
    pupil_id = getattr(obj, "pupil_id", None)
    return pupil_id if isinstance(pupil_id, int) else None


def _entry(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    role: str = "",
    school_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    if action.count(".") < 1:
        raise ValueError("audit actions are namespaced: 'app.thing.verb'")
    detail = detail or {}
    _check_detail(detail)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry(
        action=action,
        actor=actor if authenticated else None,
        actor_name=actor.get_full_name() if authenticated else "",
        role=role,
        school_id=school_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        pupil_id=_pupil_of(obj),
        detail=detail,
        created_at=clock.now(),
    )


def audit_log(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    role: str = "",
    school_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. ``action`` is namespaced, e.g. ``absence.report.created``."""
    entry = _entry(
        actor=actor, action=action, obj=obj, role=role, school_id=school_id, detail=detail
    )
    entry.save(force_insert=True)
    return entry


def audit_log_many(*entries: dict[str, Any]) -> list[AuditEntry]:
    """Append several entries in one write, in the given order; each is the keyword
    arguments of ``audit_log``."""
    return AuditEntry.objects.bulk_create([_entry(**entry) for entry in entries])
