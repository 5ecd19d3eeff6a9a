"""Named predicates for actions (django-rules). Reads are scoped in ``access``."""

from typing import Any

import rules

from kontaktbok.schools.access import roles_of
from kontaktbok.schools.models import School, StaffRole

Role = StaffRole.Role


@rules.predicate
def is_school_admin_of(user: Any, school: School | None) -> bool:
    return school is not None and roles_of(user).has_school_role(school.pk, Role.SCHOOL_ADMIN)


@rules.predicate
def is_leadership_of(user: Any, school: School | None) -> bool:
    return school is not None and roles_of(user).has_school_role(school.pk, Role.LEADERSHIP)


@rules.predicate
def is_office_or_leadership_of(user: Any, school: School | None) -> bool:
    return school is not None and roles_of(user).has_school_role(
        school.pk, Role.OFFICE, Role.LEADERSHIP
    )


rules.add_perm("schools.change_school_settings", is_school_admin_of)
rules.add_perm("schools.view_school_overview", is_office_or_leadership_of)
rules.add_perm("core.search_audit_log", is_leadership_of)
