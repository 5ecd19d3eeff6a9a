"""The staff directory in the JSON API, scoped exactly like the pages.

A guardian reads the contacts of their own children; staff read their school's directory;
the school admin changes an entry. Anything else answers 404; a refused value 422.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from kontaktbok.core.api import ERRORS, scoped
from kontaktbok.directory import selectors, services

router = Router(tags=["directory"])


# --- schemas --------------------------------------------------------------------------


class DirectoryContactOut(Schema):
    member_id: int
    name: str
    roles: list[str] = Field(
        description="Role codes in the routine's order: contact_teacher, advisor, "
        "social_teacher, head_of_stage, office, sfo_leader, leadership"
    )
    role_label: str = Field(description="The roles in the caller's language")
    title: str
    work_phone: str = Field(description="A work number; private numbers are never stored")
    tel_link: str = Field(description="tel: link with the spaces removed, or ''")
    teams_address: str
    teams_link: str = Field(description="Teams call link, or ''")
    office_hours: str


class DirectoryEntryOut(DirectoryContactOut):
    listed: bool = Field(description="Shown to guardians")
    grade_from: int | None
    grade_to: int | None
    groups: list[str] = Field(description="The groups of group roles (contact teacher)")


class DirectoryChildContactsOut(Schema):
    pupil_id: int
    school_id: int
    group: str | None
    contacts: list[DirectoryContactOut]


class DirectoryEntryPatch(Schema):
    work_phone: str | None = Field(
        None, max_length=20, description="The work number tied to Teams; never a private one"
    )
    teams_address: str | None = Field(None, max_length=254)
    office_hours: str | None = Field(None, max_length=100)
    listed: bool | None = None
    grade_from: int | None = Field(None, ge=1, le=10)
    grade_to: int | None = Field(None, ge=1, le=10)


# --- helpers --------------------------------------------------------------------------


def _contact_out(contact: selectors.Contact) -> DirectoryContactOut:
    return DirectoryContactOut(
        member_id=contact.member_id,
        name=contact.name,
        roles=list(contact.roles),
        role_label=contact.role_label,
        title=contact.title,
        work_phone=contact.work_phone,
        tel_link=contact.tel_link,
        teams_address=contact.teams_address,
        teams_link=contact.teams_link,
        office_hours=contact.office_hours,
    )


def _entry_out(contact: selectors.Contact) -> DirectoryEntryOut:
    return DirectoryEntryOut(
        **_contact_out(contact).dict(),
        listed=contact.listed,
        grade_from=contact.grade_from,
        grade_to=contact.grade_to,
        groups=list(contact.groups),
    )


# --- endpoints ------------------------------------------------------------------------


@router.get("/children/{pupil_id}/contacts", response={200: DirectoryChildContactsOut, **ERRORS})
def directory_child_contacts(request: HttpRequest, pupil_id: int) -> Any:
    """The people a guardian may call about one of their own children, in the routine's
    order, with call links and office hours."""
    found = selectors.child_contacts(actor=request.user, pupil_id=pupil_id)
    return Status(
        200,
        DirectoryChildContactsOut(
            pupil_id=found.pupil.pk,
            school_id=found.school.pk,
            group=found.main_group.name if found.main_group else None,
            contacts=[_contact_out(c) for c in found.contacts],
        ),
    )


@router.get("/schools/{school_id}/staff", response={200: list[DirectoryEntryOut], **ERRORS})
def directory_school(request: HttpRequest, school_id: int) -> Any:
    """The directory of a school where the caller works (the school admin also gets the
    entries not shown to guardians)."""
    directory = selectors.school_directory(actor=request.user, school_id=school_id)
    return Status(200, [_entry_out(c) for c in directory.contacts])


@router.patch("/schools/{school_id}/staff/{member_id}", response={200: DirectoryEntryOut, **ERRORS})
@scoped
def directory_entry_update(
    request: HttpRequest, school_id: int, member_id: int, payload: DirectoryEntryPatch
) -> Any:
    """The school admin changes an entry; only the fields sent change (send null to clear
    the grades)."""
    member = selectors.editable_member(actor=request.user, school_id=school_id, member_id=member_id)
    data = payload.dict(exclude_unset=True)
    for name in ("work_phone", "teams_address", "office_hours"):
        if name in data and data[name] is None:
            data[name] = ""
    if "listed" in data and data["listed"] is None:
        del data["listed"]
    services.directory_entry_update(actor=request.user, member=member, data=data)
    member = selectors.editable_member(actor=request.user, school_id=school_id, member_id=member_id)
    return Status(200, _entry_out(selectors.member_contact(member)))
