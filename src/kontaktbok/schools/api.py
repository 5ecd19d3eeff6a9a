"""JSON API for the school model, scoped exactly like the pages."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from kontaktbok.core.api import responses
from kontaktbok.core.audit import audit_log
from kontaktbok.schools import access, selectors

router = Router(tags=["schools"])


class MeOut(Schema):
    id: int
    full_name: str
    email: str
    is_guardian: bool
    school_roles: dict[int, list[str]]


class GroupOut(Schema):
    id: int
    name: str
    kind: str
    grade: int | None


class PupilOut(Schema):
    id: int
    first_name: str
    last_name: str
    date_of_birth: dt.date
    school_id: int


@router.get("/me", response=responses({200: MeOut}))
def me(request: HttpRequest) -> dict:
    user: Any = request.user
    roles = access.roles_of(user)
    return {
        "id": user.pk,
        "full_name": user.get_full_name(),
        "email": user.email or "",
        "is_guardian": roles.is_guardian,
        "school_roles": {k: sorted(v) for k, v in roles.school_roles.items()},
    }


@router.get("/pupils", response=responses({200: list[PupilOut]}))
def pupils(request: HttpRequest) -> list:
    return list(access.visible_pupils(request.user).order_by("last_name", "first_name")[:1000])


@router.get("/pupils/{pupil_id}", response=responses({200: PupilOut}))
def pupil(request: HttpRequest, pupil_id: int) -> object:
    found = selectors.get_pupil(actor=request.user, pupil_id=pupil_id)
    audit_log(
        actor=request.user,
        action="schools.pupil.read",
        obj=found,
        role=access.pupil_role(request.user, found),
        school_id=found.school_id,
        detail={"via": "api"},
    )
    return found


@router.get("/groups", response=responses({200: list[GroupOut]}))
def groups(request: HttpRequest) -> list:
    return list(access.visible_groups(request.user).filter(access.current_year_q()))
