"""What the roster pages read: only for those who keep the school's people."""

from typing import Any

from django.http import Http404

from kontaktbok.roster.models import RosterImport
from kontaktbok.schools import access
from kontaktbok.schools.models import School


def roster_school(*, actor: Any, school_id: int) -> School:
    """The school, if the actor keeps its people (kontor, school admin)."""
    if not access.keeps_people(actor, school_id):
        raise Http404
    return School.objects.get(pk=school_id)


def recent_imports(school: School) -> list[RosterImport]:
    return list(
        RosterImport.objects.filter(school=school)
        .select_related("created_by", "applied_by")
        .defer("records")[:10]
    )


def roster_import(*, actor: Any, school_id: int, import_id: int) -> RosterImport:
    school = roster_school(actor=actor, school_id=school_id)
    item = (
        RosterImport.objects.filter(school=school, pk=import_id)
        .select_related("school", "created_by", "applied_by")
        .defer("records")
        .first()
    )
    if item is None:
        raise Http404
    return item
