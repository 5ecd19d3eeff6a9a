"""Reads of the archive app, scoped to what the acting user may see: the school admin sees
the units of her school and their deliveries; the unit's responsible staff see theirs."""

from typing import Any

from django.db.models import Q, QuerySet

from kontaktbok.archive.models import ArchiveDelivery, ArchiveUnit
from kontaktbok.schools.access import roles_of
from kontaktbok.schools.models import StaffRole


def administered_school_ids(actor: Any) -> list[int]:
    if not getattr(actor, "is_authenticated", False):
        return []
    return list(roles_of(actor).schools_with(StaffRole.Role.SCHOOL_ADMIN))


def visible_units(actor: Any) -> QuerySet[ArchiveUnit]:
    """Units whose deliveries the actor follows up."""
    if not getattr(actor, "is_authenticated", False):
        return ArchiveUnit.objects.none()
    return ArchiveUnit.objects.filter(
        Q(school_id__in=administered_school_ids(actor)) | Q(responsible_staff=actor)
    ).distinct()


def visible_deliveries(actor: Any, *, state: str = "") -> QuerySet[ArchiveDelivery]:
    deliveries = (
        ArchiveDelivery.objects.filter(unit__in=visible_units(actor))
        .select_related("unit")
        .defer("receipt_xml", "sender_identifier", "unit__archive_certificate")
    )
    if state:
        deliveries = deliveries.filter(state=state)
    return deliveries.order_by("-created_at", "-pk")


def receiving_units() -> QuerySet[ArchiveUnit]:
    """The units a citizen may send to (any citizen, not only guardians)."""
    return (
        ArchiveUnit.objects.filter(active=True)
        .select_related("municipality")
        .order_by("municipality__name", "name")
    )


def state_counts(actor: Any) -> dict[str, int]:
    from django.db.models import Count

    rows = visible_deliveries(actor).order_by().values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def school_of(school_id: int) -> Any:
    from kontaktbok.schools.models import School

    return School.objects.select_related("municipality").get(pk=school_id)


def staff_users_of(school_id: int) -> QuerySet[Any]:
    """The people working at the school, who may be told of failed deliveries."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(staff_memberships__school_id=school_id, is_active=True)
        .distinct()
        .order_by("full_name")
    )


def units_of_school(school_id: int) -> QuerySet[ArchiveUnit]:
    return ArchiveUnit.objects.filter(school_id=school_id).prefetch_related("responsible_staff")


def pupil_folder_unit(school_id: int) -> ArchiveUnit | None:
    """The unit that files the school's own documents in the pupils' folders (elevmappe):
    the school's first active unit."""
    return ArchiveUnit.objects.filter(school_id=school_id, active=True).order_by("pk").first()


def pupil_folder_school_ids() -> QuerySet[Any]:
    """The schools that have a unit for their pupils' folders."""
    return ArchiveUnit.objects.filter(active=True, school__isnull=False).values("school_id")
