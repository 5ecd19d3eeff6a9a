"""Reads about leave, always scoped by the acting user (another family's id gives 404)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.core import clock
from kontaktbok.core.audit import audit_log
from kontaktbok.leave import rules
from kontaktbok.leave.models import Appeal, Consent, Decision, LeaveApplication, LeaveRules
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Group, Guardianship, Pupil, School, SchoolYear, StaffRole

Role = StaffRole.Role
Status = LeaveApplication.Status

# Decisions that give leave; the latest decision of an application is the one in force.
GRANTING = (Decision.Outcome.APPROVED, Decision.Outcome.PARTLY_APPROVED)


# --- the rules ----------------------------------------------------------------------------


def default_rules_text() -> str:
    return _(
        "Apply for leave as early as possible, and at least two weeks ahead. Leave is given "
        "only when the teaching as a whole stays sound. During the leave, the guardians see "
        "to the pupil's learning, in agreement with the contact teacher. Leave in the first "
        "and last weeks of the school year and on test days is normally not given."
    )


def rules_for(school: School, *, remember: bool = False) -> LeaveRules:
    """The school's own rules, else the municipality's, else the defaults (unsaved).

    With ``remember``, they are kept on this school object, so that what the same request
    asks later about the school it read (e.g. the warnings after applying) costs nothing;
    use it only for a school object read for this one request."""
    kept = school.__dict__.get("_leave_rules")
    if kept is not None:
        return kept
    found = {
        r.school_id: r
        for r in LeaveRules.objects.filter(
            Q(school=school) | Q(municipality_id=school.municipality_id, school__isnull=True)
        )
    }
    result = found.get(school.pk) or found.get(None)
    if result is None:
        result = LeaveRules(
            municipality_id=school.municipality_id,
            regulation_name=_("Regulation on leave from teaching, %(municipality)s")
            % {"municipality": school.municipality.name},
        )
    if not result.rules_text:
        result.rules_text = default_rules_text()
    if remember:
        school.__dict__["_leave_rules"] = result
    return result


def school_rules_row(school: School) -> LeaveRules | None:
    return LeaveRules.objects.filter(school=school).first()


def decider_for(leave_rules: LeaveRules, school_days: int) -> str:
    """Who decides by the length of the leave: the contact teacher up to their limit,
    the principal (leiing) above it."""
    if school_days <= leave_rules.contact_teacher_max_days:
        return LeaveApplication.Decider.CONTACT_TEACHER
    return LeaveApplication.Decider.LEADERSHIP


def beyond_principal(leave_rules: LeaveRules, school_days: int) -> bool:
    """Longer than the principal may give by the regulation (still decided by leiing)."""
    return school_days > leave_rules.principal_max_days


def is_late(leave_rules: LeaveRules, start_date: dt.date, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    return (start_date - today).days < leave_rules.lead_time_days


def counts_against_limit(leave_rules: LeaveRules, category: str) -> bool:
    """Leave on a religious holiday is a right and does not use up the yearly limit."""
    return not (
        leave_rules.religious_holidays_right and category == LeaveApplication.Category.RELIGIOUS
    )


def latest_decision(application: LeaveApplication) -> Decision | None:
    """The decision in force (the decisions must be prefetched or are read here)."""
    decisions = list(application.decisions.all())
    return decisions[-1] if decisions else None


def days_used(
    pupil: Pupil,
    year: SchoolYear | None,
    leave_rules: LeaveRules,
    exclude: LeaveApplication | None = None,
) -> int:
    """School days of leave given to the pupil this school year that count against the
    yearly limit (the decision in force of each application)."""
    if year is None:
        return 0
    applications = [a for a in pupil_applications(pupil, year) if exclude is None or a != exclude]
    return granted_days(applications, year, leave_rules)


def _given_by_decision_in_force() -> Coalesce:
    """The school days given by an application's latest decision (0 if it gives none)."""
    latest = (
        Decision.objects.filter(application=OuterRef("pk"))
        .order_by("-decided_at", "-id")
        .annotate(given=Case(When(outcome__in=GRANTING, then=F("approved_days")), default=Value(0)))
        .values("given")[:1]
    )
    return Coalesce(Subquery(latest), Value(0))


def pupil_applications(
    pupil: Pupil, year: SchoolYear | None, *, also: Q | None = None
) -> list[LeaveApplication]:
    """In one query: the pupil's applications touching ``year``, and any matching ``also``,
    each with ``days_given`` by its decision in force."""
    q = Q(start_date__lte=year.ends_on, end_date__gte=year.starts_on) if year else Q(pk__in=[])
    if also is not None:
        q |= also
    elif year is None:
        return []
    return list(
        LeaveApplication.objects.filter(q, pupil=pupil)
        .annotate(days_given=_given_by_decision_in_force())
        .order_by("start_date", "id")
    )


def granted_days(
    applications: list[LeaveApplication], year: SchoolYear, leave_rules: LeaveRules
) -> int:
    """The days granted by the decisions in force of the applications within ``year``
    (``days_given`` when read by ``pupil_applications``, else the prefetched decisions)."""
    total = 0
    for application in applications:
        if application.status in (Status.WITHDRAWN, Status.CONSENT_DECLINED):
            continue
        if application.start_date > year.ends_on or application.end_date < year.starts_on:
            continue
        if not counts_against_limit(leave_rules, application.category):
            continue
        granted = getattr(application, "days_given", None)
        if granted is None:
            decision = latest_decision(application)
            granted = (
                decision.approved_days
                if decision is not None and decision.outcome in GRANTING
                else 0
            )
        total += granted
    return total


# --- people -------------------------------------------------------------------------------


def responsible_guardians(pupil: Pupil | int) -> QuerySet[Guardianship]:
    """Guardians with parental responsibility: they apply, agree and receive the decision."""
    return (
        Guardianship.objects.filter(pupil=pupil, parental_responsibility=True)
        .select_related("guardian", "pupil")
        .order_by("guardian__full_name")
    )


def own_child_and_guardians(*, actor: Any, pupil_id: int, lock: bool = False) -> list[Guardianship]:
    """In one query: the guardians with parental responsibility of one of the actor's own
    children, each with the pupil, school and municipality; empty for anyone else's. With
    ``lock`` (in a transaction), the pupil's row is locked where the database locks rows
    (PostgreSQL): two writes for one child are then checked one after the other."""
    found = (
        responsible_guardians(pupil_id)
        .filter(pupil__in=access.guardian_pupils(actor))
        .select_related("pupil__school__municipality")
    )
    rows = list(found.select_for_update(of=("pupil",)) if lock else found)
    for row in rows[1:]:
        row.pupil = rows[0].pupil  # one object for the pupil and its school
    return rows


def guardians_to_inform(pupil: Pupil) -> list[Any]:
    """Who is told of an application and its decision: the school's one rule."""
    return school_selectors.guardians_to_inform(pupil)


def guardian_ids_to_ask(pupil: Pupil, applicant: Any) -> set[int]:
    """The other guardians asked in the app to agree: those the school may tell (the others,
    such as one kept from a protected address, agree on paper, recorded by the school)."""
    rows = Guardianship.objects.to_inform().filter(pupil=pupil).exclude(guardian=applicant)
    return set(rows.values_list("guardian_id", flat=True))


def deciders(application: LeaveApplication) -> list[Any]:
    """Who is told that an application is waiting: the pupil's contact teacher for short
    leave, the school's leadership for longer leave (and when there is no contact teacher);
    active people whose role is in force."""
    school_id = application.school_id
    if application.decider_role == LeaveApplication.Decider.CONTACT_TEACHER:
        groups = Group.objects.filter(access.current_year_q(), pupils=application.pupil_id)
        users = school_selectors.staff_holding(
            school_id, [Role.CONTACT_TEACHER], group_ids=list(groups.values_list("pk", flat=True))
        )
        if users:
            return sorted(users, key=lambda u: u.pk)
    return sorted(school_selectors.staff_holding(school_id, [Role.LEADERSHIP]), key=lambda u: u.pk)


def staff_title(user: Any, school: School) -> str:
    member = user.staff_memberships.filter(school=school).first() if user else None
    return member.title if member and member.title else ""


# --- scoped reads ------------------------------------------------------------------------


def _consents_and_decisions() -> tuple[Prefetch, Prefetch]:
    return (
        Prefetch("consents", queryset=Consent.objects.select_related("guardian", "recorded_by")),
        Prefetch("decisions", queryset=Decision.objects.defer("letter")),
    )


def _with_related(queryset: QuerySet[LeaveApplication]) -> QuerySet[LeaveApplication]:
    return (
        queryset.select_related(
            "pupil__school", "school__municipality", "applicant", "appeal__guardian"
        )
        .defer("appeal__case_pdf")
        .prefetch_related(*_consents_and_decisions())
    )


def as_written(application: LeaveApplication) -> LeaveApplication:
    """An application as a service has just written it (the service checked that the actor
    sees it), with its consents and decisions: read in two queries, unless known."""
    prefetch_related_objects([application], *_consents_and_decisions())
    return application


def guardian_scope(actor: Any) -> Q:
    """The applications for the actor's own children (by either guardian)."""
    return Q(pupil__in=access.guardian_pupils(actor))


def staff_scope(actor: Any) -> Q:
    """Kontor and leiing: every application of their school; a contact teacher: those of
    the pupils in their classes."""
    roles = access.roles_of(actor)
    q = Q(pk__in=[])
    if roles.sees_whole_school:
        q |= Q(school_id__in=roles.sees_whole_school)
    groups = rules.contact_teacher_groups(actor)
    if groups:
        q |= Q(
            pupil__in=access.visible_pupils(actor).filter(
                groups__in=Group.objects.filter(access.current_year_q(), pk__in=groups)
            )
        )
    return q


def guardian_applications(*, actor: Any, pupil: Pupil | None = None) -> QuerySet[LeaveApplication]:
    """Applications for the actor's own children (by either guardian)."""
    queryset = LeaveApplication.objects.filter(guardian_scope(actor))
    if pupil is not None:
        queryset = queryset.filter(pupil=pupil)
    return _with_related(queryset).order_by("-start_date", "-id")


def guardian_application(*, actor: Any, application_id: int) -> LeaveApplication:
    found = guardian_applications(actor=actor).filter(pk=application_id).first()
    if found is None:
        raise Http404
    return found


def is_leave_staff(actor: Any) -> bool:
    """Contact teachers, kontor and leiing work with leave applications."""
    roles = access.roles_of(actor)
    return bool(roles.sees_whole_school or rules.contact_teacher_groups(actor))


def staff_applications(*, actor: Any) -> QuerySet[LeaveApplication]:
    """Kontor and leiing: every application of their school; a contact teacher: those of
    the pupils in their classes. Each comes with whether the actor is the pupil's contact
    teacher, so that ``rules.may_decide`` asks nothing more per application."""
    scoped = _with_related(LeaveApplication.objects.filter(staff_scope(actor)))
    return rules.with_staff_answers(scoped, actor).order_by("start_date", "id")


def staff_application(*, actor: Any, application_id: int) -> LeaveApplication:
    found = staff_applications(actor=actor).filter(pk=application_id).first()
    if found is None:
        raise Http404
    return found


def any_application(*, actor: Any, application_id: int) -> LeaveApplication:
    """An application the actor sees as a guardian or as staff, or 404."""
    found = (
        guardian_applications(actor=actor).filter(pk=application_id).first()
        or staff_applications(actor=actor).filter(pk=application_id).first()
    )
    if found is None:
        raise Http404
    return found


FOR_A_LETTER = (
    "application__pupil",
    "application__school__municipality",
    "application__applicant",
)


def with_pupil_class(queryset: QuerySet[Decision]) -> QuerySet[Decision]:
    """Read, with each decision, the name of the pupil's class this school year (for the
    letter) as ``pupil_class``."""
    classes = Group.objects.filter(
        access.current_year_q(), kind=Group.Kind.CLASS, pupils=OuterRef("application__pupil_id")
    ).order_by("pk")
    return queryset.annotate(pupil_class=Subquery(classes.values("name")[:1]))


def decision_letter(*, actor: Any, decision_id: int) -> Decision:
    """A decision whose application the actor sees (guardian or staff), with its letter and
    what is needed to make it if a worker has not yet. The letter tells the pupil's
    absence: the read is audited as the actor's, as a guardian or in their staff role."""
    own = LeaveApplication.objects.filter(guardian_scope(actor))
    visible = Q(application__in=own) | Q(
        application__in=LeaveApplication.objects.filter(staff_scope(actor))
    )
    found = (
        with_pupil_class(Decision.objects.select_related(*FOR_A_LETTER, "decided_by"))
        .annotate(as_guardian=Exists(own.filter(pk=OuterRef("application_id"))))
        .filter(visible, pk=decision_id)
        .first()
    )
    if found is None:
        raise Http404
    application = found.application
    audit_log(
        actor=actor,
        action="absence.history.read",
        obj=application.pupil,
        role="guardian" if found.as_guardian else rules.role_for(actor, application),
        school_id=application.school_id,
    )
    return found


def appeal_case(*, actor: Any, appeal_id: int) -> Appeal:
    """An upheld appeal whose application the actor sees (guardian or staff), with the case
    PDF and what is needed to make it if a worker has not yet. The read is audited as the
    actor's, as a guardian (their copy of the case) or in their staff role."""
    own = LeaveApplication.objects.filter(guardian_scope(actor))
    visible = Q(application__in=own) | Q(
        application__in=LeaveApplication.objects.filter(staff_scope(actor))
    )
    found = (
        Appeal.objects.select_related(*FOR_A_LETTER, "guardian", "reconsidered_by")
        .annotate(as_guardian=Exists(own.filter(pk=OuterRef("application_id"))))
        .filter(visible, pk=appeal_id, outcome=Appeal.Outcome.UPHELD)
        .first()
    )
    if found is None:
        raise Http404
    application = found.application
    audit_log(
        actor=actor,
        action="leave.case.read",
        obj=application,
        role="guardian" if found.as_guardian else rules.role_for(actor, application),
        school_id=application.school_id,
    )
    return found


@dataclass
class Queue:
    to_decide: list[LeaveApplication]
    appeals: list[LeaveApplication]
    awaiting_consent: list[LeaveApplication]
    decided: list[LeaveApplication]


def staff_queue(*, actor: Any) -> Queue:
    """The actor's applications, sorted by what needs doing (a fixed number of queries)."""
    applications = list(staff_applications(actor=actor))
    mine = {a.pk for a in applications if rules.may_decide(actor, a)}
    to_decide = [a for a in applications if a.status == Status.SUBMITTED and a.pk in mine]
    appeals = [
        a
        for a in applications
        if a.pk in mine and (a.status == Status.APPEAL_PENDING or to_send_on(a))
    ]
    busy = {a.pk for a in [*to_decide, *appeals]}
    return Queue(
        to_decide=to_decide,
        appeals=appeals,
        awaiting_consent=[a for a in applications if a.status == Status.AWAITING_CONSENT],
        decided=[
            a for a in applications if a.status != Status.AWAITING_CONSENT and a.pk not in busy
        ],
    )


def to_send_on(application: LeaveApplication) -> bool:
    """Whether the appeal is upheld and its case not yet recorded as sent to the appeal
    body (read with the application's appeal)."""
    appeal = getattr(application, "appeal", None)
    return (
        application.status == Status.SENT_TO_STATSFORVALTER
        and appeal is not None
        and appeal.sent_on_at is None
    )


@dataclass
class Background:
    """What the decider sees beside the application: this year's leave and absence."""

    applications: list[LeaveApplication]
    days_used: int
    history: absence_selectors.History


def pupil_background(
    *, actor: Any, application: LeaveApplication, leave_rules: LeaveRules | None = None
) -> Background:
    """The pupil's leave and absence this school year (the absence read is audited);
    ``leave_rules`` if the caller has read them already."""
    pupil = application.pupil
    leave_rules = leave_rules or rules_for(application.school)
    year = school_selectors.current_school_year(application.school)
    # One read serves the list of other applications and the days used this year.
    since = year.starts_on if year else application.start_date
    pupils_applications = list(
        _with_related(LeaveApplication.objects.filter(pupil=pupil, end_date__gte=since))
        .exclude(pk=application.pk)
        .order_by("start_date")
    )
    others = [a for a in pupils_applications if a.start_date >= since]
    history = absence_selectors.absence_history(
        actor=actor, pupil=pupil, role=rules.role_for(actor, application), school_year=year
    )
    return Background(
        applications=others,
        days_used=granted_days(pupils_applications, year, leave_rules) if year else 0,
        history=history,
    )


def guardian_child(*, actor: Any, pupil_id: int) -> Pupil:
    """One of the actor's own children, or 404."""
    pupil = (
        access.guardian_pupils(actor)
        .select_related("school__municipality")
        .filter(pk=pupil_id)
        .first()
    )
    if pupil is None:
        raise Http404
    return pupil


@dataclass
class Preview:
    """What an application for these days would be: school days, who decides, warnings."""

    school_days: int
    decider: str
    late: bool
    over_limit: bool
    days_used: int
    beyond_principal: bool


def preview(
    *, pupil: Pupil, start_date: dt.date, end_date: dt.date, category: str
) -> Preview | None:
    """None when the days lie outside one school year."""
    leave_rules = rules_for(pupil.school)
    year = school_selectors.current_school_year(pupil.school, start_date)
    if year is None or end_date < start_date or end_date > year.ends_on:
        return None
    days = len(school_selectors.school_days(year, start_date, end_date))
    used = days_used(pupil, year, leave_rules)
    return Preview(
        school_days=days,
        decider=decider_for(leave_rules, days),
        late=is_late(leave_rules, start_date),
        over_limit=counts_against_limit(leave_rules, category)
        and used + days > leave_rules.max_days_per_year,
        days_used=used,
        beyond_principal=beyond_principal(leave_rules, days),
    )
