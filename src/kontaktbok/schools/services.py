"""Every write to the school model: one transaction, an audit entry inside it."""

import datetime as dt
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kontaktbok.accounts.invitations import invitation_send
from kontaktbok.accounts.services import user_create
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log, audit_log_many
from kontaktbok.schools import access
from kontaktbok.schools.identity import nin_digest
from kontaktbok.schools.models import (
    AbsenceType,
    Group,
    Guardianship,
    Holiday,
    Municipality,
    Pupil,
    School,
    SchoolYear,
    StaffMember,
    StaffRole,
)
from kontaktbok.schools.phones import mobile_number, mobile_or_landline

# The absence types of the routine: sjuk, lege, tannlege, gravferd, sjukehus/spesialist,
# anna fråvær (timar). (code, Nynorsk, Bokmål, English, counted in hours)
DEFAULT_ABSENCE_TYPES = [
    ("sick", "Sjuk", "Syk", "Sick", False),
    ("doctor", "Lege", "Lege", "Doctor", True),
    ("dentist", "Tannlege", "Tannlege", "Dentist", True),
    ("funeral", "Gravferd", "Begravelse", "Funeral", False),
    ("hospital", "Sjukehus/spesialist", "Sykehus/spesialist", "Hospital/specialist", False),
    ("other_hours", "Anna fråvær (timar)", "Annet fravær (timer)", "Other absence (hours)", True),
]

SETTINGS_FIELDS = (
    "name",
    "phone",
    "language",
    "report_deadline",
    "check_deadline",
    "first_lesson_start",
    "first_lesson_end",
    "first_break_start",
    "first_break_end",
    "lookup_time_primary",
    "lookup_time_secondary",
    "escalation_minutes",
    "report_max_school_days",
    "registers_by_lesson",
    "lessons_per_day",
    "check_reminder_minutes",
    "concern_percent",
    "staff_work_start",
    "staff_work_end",
)


def _save(obj: Any) -> Any:
    obj.full_clean()
    obj.save()
    return obj


def municipality_create(*, actor: Any, name: str, org_number: str) -> Municipality:
    with transaction.atomic():
        municipality = _save(Municipality(name=name, org_number=org_number))
        audit_log(actor=actor, action="schools.municipality.created", obj=municipality)
    return municipality


def school_create(
    *, actor: Any, municipality: Municipality, name: str, org_number: str, **settings: Any
) -> School:
    """A new school with the routine's default school-day settings and absence types."""
    with transaction.atomic():
        school = _save(
            School(municipality=municipality, name=name, org_number=org_number, **settings)
        )
        for position, (code, nn, nb, en, hours) in enumerate(DEFAULT_ABSENCE_TYPES):
            AbsenceType.objects.create(
                school=school,
                code=code,
                name_nn=nn,
                name_nb=nb,
                name_en=en,
                counted_in_hours=hours,
                position=position,
            )
        audit_log(actor=actor, action="schools.school.created", obj=school, school_id=school.pk)
    return school


def _require_school_admin(actor: Any, school: School) -> None:
    if not actor.has_perm("schools.change_school_settings", school):
        raise PermissionDenied


def _check_times(school: School) -> None:
    errors: dict[str, str] = {}
    if school.first_lesson_start >= school.first_lesson_end:
        errors["first_lesson_end"] = _("The first lesson must end after it starts.")
    if school.first_break_start >= school.first_break_end:
        errors["first_break_end"] = _("The first break must end after it starts.")
    if school.staff_work_start >= school.staff_work_end:
        errors["staff_work_end"] = _("Working hours must end after they start.")
    if school.first_lesson_end > school.first_break_start:
        errors["first_break_start"] = _("The first break must come after the first lesson.")
    if errors:
        raise ValidationError(errors)


def school_settings_update(*, actor: Any, school: School, data: dict[str, Any]) -> School:
    """The school admin changes the school-day settings. All or nothing."""
    _require_school_admin(actor, school)
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not a school setting: {sorted(unknown)}")
    with transaction.atomic():
        locked = School.objects.select_for_update().get(pk=school.pk)
        changed = {}
        for name, value in data.items():
            if getattr(locked, name) != value:
                changed[name] = [str(getattr(locked, name)), str(value)]
                setattr(locked, name, value)
        if not changed:
            return locked  # saved as it was shown: nothing to check or write
        _check_times(locked)
        # Only what changed is checked again (each constraint check is a query).
        unchanged = [f.name for f in School._meta.concrete_fields if f.name not in changed]
        locked.full_clean(exclude=unchanged)
        locked.save(update_fields=list(changed))
        if changed:
            audit_log(
                actor=actor,
                action="schools.settings.updated",
                obj=locked,
                role=StaffRole.Role.SCHOOL_ADMIN,
                school_id=locked.pk,
                detail={"changed": changed},
            )
    return locked


def absence_type_save(
    *, actor: Any, school: School, absence_type: AbsenceType | None, data: dict[str, Any]
) -> AbsenceType:
    """Add a type to the school's list, or change one (types in use are switched off, never
    deleted, so old reports keep their type)."""
    _require_school_admin(actor, school)
    if absence_type is not None and absence_type.school_id != school.pk:
        raise PermissionDenied
    with transaction.atomic():
        item = absence_type or AbsenceType(school=school)
        for name in (
            "code",
            "name_nn",
            "name_nb",
            "name_en",
            "counted_in_hours",
            "active",
            "position",
        ):
            if name in data:
                setattr(item, name, data[name])
        item.full_clean()
        created = item.pk is None
        item.save()
        audit_log(
            actor=actor,
            action="schools.absence_type." + ("created" if created else "updated"),
            obj=item,
            role=StaffRole.Role.SCHOOL_ADMIN,
            school_id=school.pk,
            detail={"code": item.code, "active": item.active},
        )
    return item


def school_year_create(
    *,
    actor: Any,
    school: School,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    holidays: list[tuple[str, dt.date, dt.date]] = (),  # type: ignore[assignment]
) -> SchoolYear:
    with transaction.atomic():
        year = _save(SchoolYear(school=school, name=name, starts_on=starts_on, ends_on=ends_on))
        for holiday_name, start, end in holidays:
            if start < starts_on or end > ends_on:
                raise ValidationError(_("A holiday must lie within the school year."))
            _save(Holiday(school_year=year, name=holiday_name, starts_on=start, ends_on=end))
        audit_log(actor=actor, action="schools.school_year.created", obj=year, school_id=school.pk)
    return year


def holiday_add(
    *, actor: Any, school_year: SchoolYear, name: str, starts_on: dt.date, ends_on: dt.date
) -> Holiday:
    """The school admin adds a holiday or planning day to the school year."""
    _require_school_admin(actor, school_year.school)
    if starts_on < school_year.starts_on or ends_on > school_year.ends_on:
        raise ValidationError(_("A holiday must lie within the school year."))
    with transaction.atomic():
        holiday = _save(
            Holiday(school_year=school_year, name=name, starts_on=starts_on, ends_on=ends_on)
        )
        audit_log(
            actor=actor,
            action="schools.holiday.added",
            obj=holiday,
            role=StaffRole.Role.SCHOOL_ADMIN,
            school_id=school_year.school_id,
            detail={"name": name, "from": str(starts_on), "to": str(ends_on)},
        )
    return holiday


def holiday_remove(*, actor: Any, holiday: Holiday) -> None:
    school = holiday.school_year.school
    _require_school_admin(actor, school)
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="schools.holiday.removed",
            obj=holiday,
            role=StaffRole.Role.SCHOOL_ADMIN,
            school_id=school.pk,
            detail={
                "name": holiday.name,
                "from": str(holiday.starts_on),
                "to": str(holiday.ends_on),
            },
        )
        holiday.delete()


def group_create(
    *,
    actor: Any,
    school_year: SchoolYear,
    name: str,
    kind: str = Group.Kind.CLASS,
    grade: int | None = None,
) -> Group:
    with transaction.atomic():
        group = _save(
            Group(
                school=school_year.school,
                school_year=school_year,
                name=name,
                kind=kind,
                grade=grade,
            )
        )
        audit_log(actor=actor, action="schools.group.created", obj=group, school_id=group.school_id)
    return group


def pupil_create(
    *,
    actor: Any,
    school: School,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    nin: str | None = None,
    protected_address: bool = False,
    groups: list[Group] = (),  # type: ignore[assignment]
) -> Pupil:
    """A pupil; the identity number is stored only as its keyed digest."""
    with transaction.atomic():
        pupil = Pupil(
            school=school,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            protected_address=protected_address,
            nin_digest=nin_digest(nin) if nin else None,
        )
        pupil.full_clean()
        pupil.save()
        for group in groups:
            if group.school_id != school.pk:
                raise ValidationError(_("The group belongs to another school."))
            group.pupils.add(pupil)
        audit_log(
            actor=actor,
            action="schools.pupil.created",
            obj=pupil,
            school_id=school.pk,
            detail={"protected_address": protected_address},
        )
    return pupil


def _require_people_admin(actor: Any, school: School) -> None:
    """Kontor and the school admin keep the school's people (leiing reads)."""
    if not access.keeps_people(actor, school.pk):
        raise PermissionDenied


def _one_class(school: School, class_group: Group | None) -> list[Group]:
    if class_group is None:
        return []
    if class_group.school_id != school.pk or class_group.kind != Group.Kind.CLASS:
        raise ValidationError({"class_group": _("Choose one of the school's classes.")})
    return [class_group]


def pupil_add(
    *,
    actor: Any,
    school: School,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    nin: str = "",
    class_group: Group | None = None,
    protected_address: bool = False,
    passed_mfa: bool = False,
) -> Pupil:
    """Kontor adds a pupil to the school and its class. A protected address is set only
    by someone who passed a second factor in this session; an identity number already
    known is refused (the same pupil twice)."""
    _require_people_admin(actor, school)
    if protected_address and not passed_mfa:
        raise ValidationError(
            {"protected_address": _("Log in again with your second factor to set this.")}
        )
    if nin and Pupil.objects.filter(nin_digest=nin_digest(nin)).exists():
        raise ValidationError({"nin": _("A pupil with this identity number is registered.")})
    return pupil_create(
        actor=actor,
        school=school,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        nin=nin or None,
        protected_address=protected_address,
        groups=_one_class(school, class_group),
    )


def pupil_update(
    *,
    actor: Any,
    pupil: Pupil,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    class_group: Group | None,
    protected_address: bool,
    passed_mfa: bool = False,
) -> Pupil:
    """Kontor changes a pupil's name, birth date, class this school year (a move) or
    protected address (only with a second factor passed in this session); audited with
    what changed."""
    with transaction.atomic():
        pupil = Pupil.objects.select_for_update().get(pk=pupil.pk)
        school = pupil.school
        _require_people_admin(actor, school)
        if protected_address != pupil.protected_address and not passed_mfa:
            raise ValidationError(
                {"protected_address": _("Log in again with your second factor to change this.")}
            )
        changed = [
            name
            for name, value in (
                ("first_name", first_name.strip()),
                ("last_name", last_name.strip()),
                ("date_of_birth", date_of_birth),
                ("protected_address", protected_address),
            )
            if getattr(pupil, name) != value
        ]
        pupil.first_name, pupil.last_name = first_name.strip(), last_name.strip()
        pupil.date_of_birth, pupil.protected_address = date_of_birth, protected_address
        pupil.full_clean()
        pupil.save()
        wanted = _one_class(school, class_group)
        current = list(pupil.groups.filter(access.current_year_q(), kind=Group.Kind.CLASS))
        if {g.pk for g in current} != {g.pk for g in wanted}:
            pupil.groups.remove(*current)
            pupil.groups.add(*wanted)
            changed.append("class")
        audit_log(
            actor=actor,
            action="schools.pupil.updated",
            obj=pupil,
            role=_people_role(actor, school),
            school_id=school.pk,
            detail={"changed": changed},
        )
    return pupil


def _people_role(actor: Any, school: School) -> str:
    roles = access.roles_of(actor)
    return next((r for r in access.PEOPLE_ROLES if roles.has_school_role(school.pk, r)), "")


def pupil_leave(*, actor: Any, pupil: Pupil, last_day: dt.date) -> Pupil:
    """Kontor marks a pupil as leaving the school after ``last_day``: from the day after,
    the pupil is in no group of this year, so nobody registers or is told about them any
    more; everything recorded is kept for the archive. A last day today or before takes
    the pupil out at once; a later one on that day's end (``remove_left_pupils``), and can
    be changed until then."""
    with transaction.atomic():
        pupil = Pupil.objects.select_for_update().select_related("school").get(pk=pupil.pk)
        _require_people_admin(actor, pupil.school)
        if pupil.left_on is not None and pupil.left_on <= clock.today():
            raise ValidationError(_("The pupil has already left the school."))
        pupil.left_on = last_day
        pupil.save(update_fields=["left_on"])
        gone_now = last_day <= clock.today()
        groups = []
        if gone_now:
            groups = list(pupil.groups.filter(access.current_year_q()))
            pupil.groups.remove(*groups)
        audit_log(
            actor=actor,
            action="schools.pupil.left" if gone_now else "schools.pupil.leaving",
            obj=pupil,
            role=_people_role(actor, pupil.school),
            school_id=pupil.school_id,
            detail={"last_day": str(last_day), "groups": [g.pk for g in groups]},
        )
    return pupil


def remove_left_pupils(today: dt.date | None = None) -> int:
    """The daily step of ``pupil_leave``: pupils past their last day leave this year's
    groups, each audited; returns how many."""
    today = today or clock.today()
    through = Pupil.groups.through
    with transaction.atomic():
        rows = list(
            through.objects.select_for_update()
            .filter(pupil__left_on__lt=today)
            .filter(access.current_year_q("group__", today))
            .select_related("pupil")
        )
        if not rows:
            return 0
        through.objects.filter(pk__in=[row.pk for row in rows]).delete()
        groups: dict[Pupil, list[int]] = {}
        for row in rows:
            groups.setdefault(row.pupil, []).append(row.group_id)
        audit_log_many(
            *(
                {
                    "actor": None,
                    "action": "schools.pupil.left",
                    "obj": pupil,
                    "school_id": pupil.school_id,
                    "detail": {"last_day": str(pupil.left_on), "groups": sorted(ids)},
                }
                for pupil, ids in groups.items()
            )
        )
    return len(groups)


def _person(actor: Any, email: str, full_name: str, phone: str = "") -> tuple[Any, bool]:
    """The person with this e-mail address, as they are (True), or a new account without a
    password (False): the people pages link rather than duplicate a person."""
    address = email.strip().lower()
    known = get_user_model().objects.filter(email__iexact=address).first()
    if known is not None:
        return known, True
    return user_create(actor=actor, email=address, full_name=full_name.strip(), phone=phone), False


def guardian_add(
    *,
    actor: Any,
    pupil: Pupil,
    full_name: str,
    email: str,
    phone: str = "",
    parental_responsibility: bool = True,
    lives_with_pupil: bool = True,
    restricted: bool = False,
    passed_mfa: bool = False,
) -> Guardianship:
    """Kontor adds a guardian to a pupil: a person already known by their e-mail address is
    linked (their own details stay as they are), anyone else gets an account without a
    password (they set one with "forgot password", or log in nationally). Marking the
    guardian restricted needs a second factor passed in this session."""
    with transaction.atomic():
        pupil = Pupil.objects.select_for_update().select_related("school").get(pk=pupil.pk)
        _require_people_admin(actor, pupil.school)
        if restricted and not passed_mfa:
            raise ValidationError(
                {"restricted": _("Log in again with your second factor to set this.")}
            )
        number = mobile_number(phone) if phone.strip() else ""
        guardian, known = _person(actor, email, full_name, phone=number)
        if known and Guardianship.objects.filter(guardian=guardian, pupil=pupil).exists():
            raise ValidationError({"email": _("This person is already a guardian of the pupil.")})
        if not known and parental_responsibility:  # the others are told nothing
            invitation_send(actor=actor, user=guardian, school=pupil.school)
        return guardianship_set(
            actor=actor,
            guardian=guardian,
            pupil=pupil,
            parental_responsibility=parental_responsibility,
            lives_with_pupil=lives_with_pupil,
            may_receive_information=parental_responsibility,
            restricted=restricted,
        )


def guardianship_change(
    *,
    actor: Any,
    guardianship: Guardianship,
    parental_responsibility: bool,
    lives_with_pupil: bool,
    restricted: bool,
    passed_mfa: bool = False,
) -> Guardianship:
    """Kontor changes how a guardian stands to a pupil. A restricted guardian, or making
    one restricted, needs a second factor passed in this session."""
    _require_people_admin(actor, guardianship.pupil.school)
    if (restricted or guardianship.restricted) and not passed_mfa:
        raise ValidationError(_("Log in again with your second factor to change this."))
    return guardianship_set(
        actor=actor,
        guardian=guardianship.guardian,
        pupil=guardianship.pupil,
        parental_responsibility=parental_responsibility,
        lives_with_pupil=lives_with_pupil,
        may_receive_information=parental_responsibility,
        restricted=restricted,
    )


def guardianship_end(
    *, actor: Any, guardianship: Guardianship, last_day: dt.date, passed_mfa: bool = False
) -> Guardianship | None:
    """Kontor ends a guardianship (a court's decision, a move): the guardian keeps it
    through ``last_day`` and it goes the day after (``end_due_guardianships``). A past or
    last day before today ends it now. Returns the guardianship if it lives until then."""
    _require_people_admin(actor, guardianship.pupil.school)
    if guardianship.restricted and not passed_mfa:
        raise ValidationError(_("Log in again with your second factor to change this."))
    with transaction.atomic():
        item = (
            Guardianship.objects.select_for_update().select_related("pupil").get(pk=guardianship.pk)
        )
        detail = {
            "guardian": item.guardian_id,
            "pupil": item.pupil_id,
            "last_day": str(last_day),
            "parental_responsibility": item.parental_responsibility,
        }
        if last_day < clock.today():
            item.delete()
            action, kept = "schools.guardianship.ended", None
        else:
            item.ends_on = last_day
            item.save(update_fields=["ends_on"])
            action, kept = "schools.guardianship.ending", item
        audit_log(
            actor=actor,
            action=action,
            obj=item.pupil,
            role=_people_role(actor, item.pupil.school),
            school_id=item.pupil.school_id,
            detail=detail,
        )
    access.forget_roles(guardianship.guardian)
    return kept


def end_due_guardianships(today: dt.date | None = None) -> int:
    """The daily step of ``guardianship_end``: guardianships past their last day go, each
    audited; returns how many."""
    today = today or clock.today()
    with transaction.atomic():
        due = list(
            Guardianship.objects.select_for_update()
            .filter(ends_on__lt=today)
            .select_related("pupil")
        )
        if not due:
            return 0
        Guardianship.objects.filter(pk__in=[g.pk for g in due]).delete()
        audit_log_many(
            *(
                {
                    "actor": None,
                    "action": "schools.guardianship.ended",
                    "obj": g.pupil,
                    "school_id": g.pupil.school_id,
                    "detail": {
                        "guardian": g.guardian_id,
                        "pupil": g.pupil_id,
                        "last_day": str(g.ends_on),
                        "parental_responsibility": g.parental_responsibility,
                    },
                }
                for g in due
            )
        )
    return len(due)


def guardianship_set(
    *,
    actor: Any,
    guardian: Any,
    pupil: Pupil,
    parental_responsibility: bool = True,
    lives_with_pupil: bool = True,
    may_receive_information: bool = True,
    restricted: bool = False,
) -> Guardianship:
    """Create or change the relation between a guardian and a pupil."""
    with transaction.atomic():
        item, created = Guardianship.objects.select_for_update().get_or_create(
            guardian=guardian,
            pupil=pupil,
            defaults={
                "parental_responsibility": parental_responsibility,
                "lives_with_pupil": lives_with_pupil,
                "may_receive_information": may_receive_information,
                "restricted": restricted,
            },
        )
        if not created:
            item.parental_responsibility = parental_responsibility
            item.lives_with_pupil = lives_with_pupil
            item.may_receive_information = may_receive_information
            item.restricted = restricted
            item.save()
        audit_log(
            actor=actor,
            action="schools.guardianship." + ("created" if created else "updated"),
            obj=item,
            school_id=pupil.school_id,
            detail={"parental_responsibility": parental_responsibility, "restricted": restricted},
        )
    access.forget_roles(guardian)
    return item


def staff_member_set(
    *,
    actor: Any,
    school: School,
    user: Any,
    title: str = "",
    work_phone: str = "",
    teams_address: str = "",
) -> StaffMember:
    with transaction.atomic():
        member, created = StaffMember.objects.get_or_create(school=school, user=user)
        member.title = title
        member.work_phone = work_phone
        member.teams_address = teams_address
        member.full_clean()
        member.save()
        audit_log(
            actor=actor,
            action="schools.staff." + ("created" if created else "updated"),
            obj=member,
            school_id=school.pk,
        )
    return member


def staff_role_grant(
    *,
    actor: Any,
    member: StaffMember,
    role: str,
    group: Group | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> StaffRole:
    """Give a staff member a role at the school, or for one group of it, from ``starts_on``
    to ``ends_on`` (the last day; both optional). Granting a role held already sets its
    dates."""
    if role in StaffRole.GROUP_ROLES and group is None:
        raise ValidationError(_("This role is held for a group."))
    if group is not None and group.school_id != member.school_id:
        raise ValidationError(_("The group belongs to another school."))
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError(_("The last day cannot be before the first day."))
    with transaction.atomic():
        item, created = StaffRole.objects.select_for_update().get_or_create(
            member=member,
            role=role,
            group=group,
            defaults={"starts_on": starts_on, "ends_on": ends_on},
        )
        changed = (item.starts_on, item.ends_on) != (starts_on, ends_on)
        if changed:
            item.starts_on, item.ends_on = starts_on, ends_on
            item.save(update_fields=["starts_on", "ends_on"])
        if created or changed:
            audit_log(
                actor=actor,
                action="schools.role.granted",
                obj=item,
                school_id=member.school_id,
                detail={
                    "role": role,
                    "group": group.pk if group else None,
                    "starts_on": str(starts_on or ""),
                    "ends_on": str(ends_on or ""),
                },
            )
    access.forget_roles(member.user)
    return item


def staff_role_end(*, actor: Any, role: StaffRole, last_day: dt.date) -> StaffRole:
    """End a role: the staff member holds it until ``last_day`` and loses it the day after
    (a person leaving the school; a class handed to another teacher)."""
    if role.starts_on and last_day < role.starts_on:
        raise ValidationError(_("The last day cannot be before the first day."))
    with transaction.atomic():
        role.ends_on = last_day
        role.save(update_fields=["ends_on"])
        audit_log(
            actor=actor,
            action="schools.role.ended",
            obj=role,
            school_id=role.member.school_id,
            detail={"role": role.role, "last_day": str(last_day)},
        )
    access.forget_roles(role.member.user)
    return role


# --- kontor keeps the staff and their roles --------------------------------------------

# Roles over the whole school (and its settings): given or taken only by someone who passed
# a second factor in this session.
MFA_ROLES = frozenset({*StaffRole.SCHOOL_WIDE_ROLES, StaffRole.Role.SCHOOL_ADMIN})


def staff_add(
    *,
    actor: Any,
    school: School,
    full_name: str,
    email: str,
    work_phone: str = "",
    title: str = "",
) -> StaffMember:
    """Kontor adds a staff member: a person known by the e-mail address is linked, anyone
    else gets an account without a password. Roles are given next (``role_give``)."""
    with transaction.atomic():
        _require_people_admin(actor, school)
        user, known = _person(actor, email, full_name)
        if known and StaffMember.objects.filter(school=school, user=user).exists():
            raise ValidationError({"email": _("This person is already on the school's staff.")})
        number = mobile_or_landline(work_phone) if work_phone.strip() else ""
        if not known:
            invitation_send(actor=actor, user=user, school=school)
        return staff_member_set(
            actor=actor, school=school, user=user, title=title.strip(), work_phone=number
        )


def _check_role_change(actor: Any, member: StaffMember, role: str, passed_mfa: bool) -> None:
    _require_people_admin(actor, member.school)
    if role in MFA_ROLES and not passed_mfa:
        raise ValidationError(
            _("Log in again with your second factor to give or take a whole-school role.")
        )


def role_give(
    *,
    actor: Any,
    member: StaffMember,
    role: str,
    group: Group | None = None,
    starts_on: dt.date | None = None,
    passed_mfa: bool = False,
) -> StaffRole:
    """Kontor gives a staff member a role at the school or for one of this year's groups
    (a group role counts in its group's school year only)."""
    _check_role_change(actor, member, role, passed_mfa)
    if group is not None and role in MFA_ROLES:
        raise ValidationError({"group": _("This role is held for the whole school.")})
    return staff_role_grant(actor=actor, member=member, role=role, group=group, starts_on=starts_on)


def role_take(
    *, actor: Any, role: StaffRole, last_day: dt.date, passed_mfa: bool = False
) -> StaffRole:
    """Kontor ends a role: held through ``last_day``, gone the day after."""
    _check_role_change(actor, role.member, role.role, passed_mfa)
    return staff_role_end(actor=actor, role=role, last_day=last_day)


def staff_leave(
    *, actor: Any, member: StaffMember, last_day: dt.date, passed_mfa: bool = False
) -> int:
    """A staff member leaves the school: every role they hold or are to hold ends after
    ``last_day`` (one not yet begun by then is taken away); the account stays (the person
    may be a guardian). Returns how many roles changed."""
    _require_people_admin(actor, member.school)
    with transaction.atomic():
        roles = list(
            StaffRole.objects.select_for_update().filter(
                Q(ends_on__isnull=True) | Q(ends_on__gt=last_day), member=member
            )
        )
        if any(r.role in MFA_ROLES for r in roles) and not passed_mfa:
            raise ValidationError(
                _("Log in again with your second factor to give or take a whole-school role.")
            )
        later = [r.pk for r in roles if r.starts_on and r.starts_on > last_day]
        StaffRole.objects.filter(pk__in=later).delete()
        StaffRole.objects.filter(pk__in=[r.pk for r in roles if r.pk not in later]).update(
            ends_on=last_day
        )
        audit_log(
            actor=actor,
            action="schools.staff.left",
            obj=member,
            role=_people_role(actor, member.school),
            school_id=member.school_id,
            detail={"last_day": str(last_day), "roles": [r.role for r in roles]},
        )
    access.forget_roles(member.user)
    return len(roles)


def staff_feide_set(*, actor: Any, member: StaffMember, feide_id: str) -> StaffMember:
    """The staff member's Feide user id (user@school.no), how a Feide login finds them."""
    _require_people_admin(actor, member.school)
    value = feide_id.strip().lower()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValidationError({"feide_id": _("A Feide id looks like name@school.no.")})
    taken = StaffMember.objects.filter(feide_id=value).exclude(user_id=member.user_id)
    if value and taken.exists():
        raise ValidationError({"feide_id": _("Another person has this Feide id.")})
    with transaction.atomic():
        member.feide_id = value
        member.save(update_fields=["feide_id"])
        audit_log(
            actor=actor,
            action="schools.staff.feide_set",
            obj=member,
            role=_people_role(actor, member.school),
            school_id=member.school_id,
        )
    return member
