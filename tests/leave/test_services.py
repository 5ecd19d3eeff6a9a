"""Leave services: applying (routing, limits, bad input), consent, deciding, appeals."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.core.models import AuditEntry
from kontaktbok.leave import services
from kontaktbok.leave.models import Appeal, Consent, Decision, LeaveApplication, LeaveRules
from kontaktbok.notifications.models import Notification
from kontaktbok.schools import services as school_services
from tests.leave.helpers import MONDAY, TODAY, apply, decide, second_guardian

pytestmark = pytest.mark.django_db

Status = LeaveApplication.Status
Decider = LeaveApplication.Decider


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- routing and limits -------------------------------------------------------------------

ROUTING = [
    # (first day, last day, category, school days, decider, late, over the yearly limit)
    (MONDAY, MONDAY, "travel", 1, Decider.CONTACT_TEACHER, False, False),
    (MONDAY, dt.date(2027, 1, 13), "travel", 3, Decider.CONTACT_TEACHER, False, False),
    (MONDAY, dt.date(2027, 1, 14), "travel", 4, Decider.LEADERSHIP, False, False),
    # Friday to Monday: the weekend is not counted.
    (
        dt.date(2027, 1, 15),
        dt.date(2027, 1, 18),
        "travel",
        2,
        Decider.CONTACT_TEACHER,
        False,
        False,
    ),
    (MONDAY, dt.date(2027, 1, 22), "sport_culture", 10, Decider.LEADERSHIP, False, False),
    (MONDAY, dt.date(2027, 1, 25), "other", 11, Decider.LEADERSHIP, False, True),
    # A religious holiday is a right: it does not count against the limit.
    (MONDAY, dt.date(2027, 1, 25), "religious", 11, Decider.LEADERSHIP, False, False),
    # The lead time is 14 days: Tuesday 8 December is in time, Monday 7 December late.
    (
        dt.date(2026, 12, 8),
        dt.date(2026, 12, 8),
        "travel",
        1,
        Decider.CONTACT_TEACHER,
        False,
        False,
    ),
    (dt.date(2026, 12, 7), dt.date(2026, 12, 7), "travel", 1, Decider.CONTACT_TEACHER, True, False),
    (TODAY, TODAY, "travel", 1, Decider.CONTACT_TEACHER, True, False),
]


@pytest.mark.parametrize(("start", "end", "category", "days", "decider", "late", "over"), ROUTING)
def test_routing_and_limits(world, start, end, category, days, decider, late, over):
    application = apply(world, start, end, category=category)
    assert application.school_days == days
    assert application.decider_role == decider
    assert application.late is late
    assert application.over_limit is over
    assert application.status == Status.SUBMITTED  # guardian_a is the only guardian


RULES = [
    # (contact teacher's limit, yearly limit, lead time, school days, decider, late, over)
    (5, 10, 14, 4, Decider.CONTACT_TEACHER, False, False),
    (0, 10, 14, 1, Decider.LEADERSHIP, False, False),
    (3, 2, 14, 3, Decider.CONTACT_TEACHER, False, True),
    (3, 10, 60, 1, Decider.CONTACT_TEACHER, True, False),
]


@pytest.mark.parametrize(("teacher", "limit", "lead", "days", "decider", "late", "over"), RULES)
def test_the_schools_own_rules_route_the_application(
    world, teacher, limit, lead, days, decider, late, over
):
    services.leave_rules_save(
        actor=world.school_admin,
        school=world.school,
        data={
            "contact_teacher_max_days": teacher,
            "max_days_per_year": limit,
            "lead_time_days": lead,
        },
    )
    application = apply(world, MONDAY, MONDAY + dt.timedelta(days=days - 1))
    assert (application.decider_role, application.late, application.over_limit) == (
        decider,
        late,
        over,
    )


def test_the_municipalitys_rules_hold_where_the_school_has_none(world):
    services.municipality_leave_rules_set(
        actor=None,
        municipality=world.school.municipality,
        data={"contact_teacher_max_days": 1, "regulation_name": "Forskrift om permisjon, X"},
    )
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    assert application.decider_role == Decider.LEADERSHIP
    # Another municipality's school keeps the defaults.
    assert LeaveRules.objects.count() == 1


def test_leave_already_given_counts_towards_the_limit(world):
    first = apply(world, dt.date(2027, 1, 4), dt.date(2027, 1, 13))  # 8 school days
    decide(world, first, actor=world.leadership)
    within = apply(world, dt.date(2027, 2, 1), dt.date(2027, 2, 2))  # 2 more: 10 in all
    assert not within.over_limit and within.days_before == 8
    decide(world, within)
    over = apply(world, dt.date(2027, 3, 1), dt.date(2027, 3, 1))
    assert over.over_limit


def test_holidays_are_not_counted(world):
    school_services.holiday_add(
        actor=world.school_admin,
        school_year=world.school.school_years.get(),
        name="Juleferie",
        starts_on=dt.date(2026, 12, 21),
        ends_on=dt.date(2027, 1, 1),
    )
    application = apply(world, dt.date(2026, 12, 18), dt.date(2027, 1, 4))
    assert application.school_days == 2


# --- bad input ----------------------------------------------------------------------------

BAD = [
    ({"start_date": TODAY - dt.timedelta(days=1)}, "start_date", "passed"),
    ({"end_date": MONDAY - dt.timedelta(days=1)}, "end_date", "before the first day"),
    ({"end_date": dt.date(2027, 8, 20)}, "end_date", "one school year"),
    (
        {"start_date": dt.date(2027, 1, 9), "end_date": dt.date(2027, 1, 10)},
        "start_date",
        "no school days",
    ),
    ({"rules_confirmed": False}, "rules_confirmed", "leave rules"),
    ({"reason": "  "}, "reason", "reason"),
    ({"learning_plan": ""}, "learning_plan", "learning"),
    ({"category": "holiday"}, "category", "reason"),
]


@pytest.mark.parametrize(("changes", "field", "text"), BAD)
def test_bad_input_is_refused_and_nothing_is_saved(world, changes, field, text):
    with pytest.raises(ValidationError) as excinfo:
        apply(world, **changes)
    assert text in " ".join(errors_of(excinfo)[field])
    assert not LeaveApplication.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="leave.").exists()


def test_an_overlapping_application_is_refused(world):
    apply(world, MONDAY, dt.date(2027, 1, 13))
    with pytest.raises(ValidationError) as excinfo:
        apply(world, dt.date(2027, 1, 13), dt.date(2027, 1, 14))
    assert "11.01.2027" in errors_of(excinfo)["start_date"][0]
    assert LeaveApplication.objects.count() == 1


def test_a_withdrawn_or_declined_application_does_not_block_the_days(world):
    first = apply(world)
    services.leave_application_withdraw(actor=world.guardian_a, application_id=first.pk)
    second = apply(world)
    decide(world, second, Decision.Outcome.DECLINED)
    assert apply(world).status == Status.SUBMITTED


@pytest.mark.parametrize("who", ["guardian_b", "guardian_without_responsibility", "office"])
def test_a_child_not_ones_own_is_refused(world, who):
    with pytest.raises(PermissionDenied):
        apply(world, actor=getattr(world, who))
    with pytest.raises(PermissionDenied):
        apply(world, actor=world.guardian_a, pupil_id=world.child_b.pk)
    assert not LeaveApplication.objects.exists()


def test_a_double_submit_makes_one_application(world):
    first = apply(world, idempotency_key="abc")
    again = apply(world, idempotency_key="abc")
    assert first.pk == again.pk
    assert LeaveApplication.objects.count() == 1


def test_the_rules_shown_are_kept_with_the_application(world):
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"rules_text": "Søk i god tid."}
    )
    application = apply(world)
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"rules_text": "Nye reglar."}
    )
    application.refresh_from_db()
    assert application.rules_confirmed and application.rules_text == "Søk i god tid."


def test_applying_is_audited_and_the_contact_teacher_is_told(world):
    application = apply(world)
    entry = AuditEntry.objects.get(action="leave.application.created")
    assert entry.actor == world.guardian_a and entry.object_id == str(application.pk)
    told = Notification.objects.get(kind="leave.submitted")
    assert told.recipient == world.contact_teacher_a
    assert told.url == f"/leave/staff/applications/{application.pk}/"


def test_longer_leave_goes_to_the_leadership(world):
    apply(world, MONDAY, dt.date(2027, 1, 15))
    assert list(Notification.objects.values_list("recipient", flat=True)) == [world.leadership.pk]


# --- both guardians -----------------------------------------------------------------------


def test_the_other_guardian_is_asked_and_the_application_waits(world):
    other = second_guardian(world)
    application = apply(world)
    assert application.status == Status.AWAITING_CONSENT
    consent = Consent.objects.get(application=application)
    assert consent.guardian == other and consent.status == Consent.Status.PENDING
    asked = Notification.objects.get(kind="leave.consent_requested")
    assert asked.recipient == other and asked.payload["applicant"] == "Guardian A"
    assert not Notification.objects.filter(kind="leave.submitted").exists()

    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.submitted_at is not None
    assert Notification.objects.get(kind="leave.submitted").recipient == world.contact_teacher_a


def test_the_other_guardian_declines_and_the_application_stops(world):
    other = second_guardian(world)
    application = apply(world)
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=False)
    application.refresh_from_db()
    assert application.status == Status.CONSENT_DECLINED
    assert Notification.objects.get(kind="leave.consent_declined").recipient == world.guardian_a
    with pytest.raises(ValidationError):
        services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)


def test_the_applicant_cannot_agree_for_the_other(world):
    second_guardian(world)
    application = apply(world)
    with pytest.raises(ValidationError):
        services.leave_consent_answer(
            actor=world.guardian_a, application_id=application.pk, agree=True
        )
    with pytest.raises(PermissionDenied):
        services.leave_consent_answer(
            actor=world.guardian_b, application_id=application.pk, agree=True
        )


def test_a_guardian_without_responsibility_is_not_asked(world):
    second_guardian(world, parental_responsibility=False)
    assert apply(world).status == Status.SUBMITTED


def test_the_school_records_consent_given_another_way(world):
    other = second_guardian(world)
    application = apply(world)
    with pytest.raises(ValidationError) as excinfo:
        services.leave_consent_record(
            actor=world.office, application_id=application.pk, guardian_id=other.pk, note=" "
        )
    assert "note" in errors_of(excinfo)
    with pytest.raises(PermissionDenied):
        services.leave_consent_record(
            actor=world.contact_teacher_b,
            application_id=application.pk,
            guardian_id=other.pk,
            note="Telefon",
        )
    consent = services.leave_consent_record(
        actor=world.office,
        application_id=application.pk,
        guardian_id=other.pk,
        note="Signert brev 20.11.",
    )
    assert consent.status == Consent.Status.RECORDED_BY_SCHOOL
    assert consent.recorded_by == world.office
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


# --- deciding -----------------------------------------------------------------------------


def test_approval_explains_the_absence_and_both_guardians_get_the_letter(world):
    other = second_guardian(world)
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    decision = decide(world, application)
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert decision.approved_days == 2
    assert decision.appeal_deadline == TODAY + dt.timedelta(days=21)
    assert bytes(decision.letter).startswith(b"%PDF")
    leave = absence_selectors.leave_days([world.child_a.pk], MONDAY, MONDAY).get()
    assert leave.reference == f"leave:{application.pk}"
    told = set(
        Notification.objects.filter(kind="leave.decided").values_list("recipient", flat=True)
    )
    assert told == {world.guardian_a.pk, other.pk}
    assert AuditEntry.objects.filter(action="leave.decision.made").count() == 1


def test_partial_approval_gives_only_the_days_chosen(world):
    application = apply(world, MONDAY, dt.date(2027, 1, 13))
    decision = decide(
        world,
        application,
        Decision.Outcome.PARTLY_APPROVED,
        approved_start=MONDAY,
        approved_end=MONDAY,
    )
    assert decision.approved_days == 1
    leave = absence_selectors.leave_days([world.child_a.pk], MONDAY, dt.date(2027, 1, 13)).get()
    assert (leave.start_date, leave.end_date) == (MONDAY, MONDAY)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "approved_start"),
        ({"approved_start": MONDAY, "approved_end": dt.date(2027, 1, 20)}, "approved_start"),
        ({"approved_start": MONDAY, "approved_end": dt.date(2027, 1, 13)}, "approved_start"),
        ({"approved_start": dt.date(2027, 1, 12), "approved_end": MONDAY}, "approved_end"),
    ],
)
def test_partial_approval_needs_days_inside_the_period(world, extra, field):
    application = apply(world, MONDAY, dt.date(2027, 1, 13))
    with pytest.raises(ValidationError) as excinfo:
        decide(world, application, Decision.Outcome.PARTLY_APPROVED, **extra)
    assert field in errors_of(excinfo)
    assert not Decision.objects.exists()
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED


def test_a_decision_needs_reasons(world):
    application = apply(world)
    with pytest.raises(ValidationError) as excinfo:
        decide(world, application, reasons="  ")
    assert "reasons" in errors_of(excinfo)


def test_only_the_right_decider_decides(world):
    short = apply(world)
    long = apply(world, dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    for actor in (world.office, world.contact_teacher_b, world.other_leadership, world.guardian_a):
        with pytest.raises(PermissionDenied):
            decide(world, short, actor=actor)
    with pytest.raises(PermissionDenied):
        decide(world, long, actor=world.contact_teacher_a)
    decide(world, long, actor=world.leadership)
    decide(world, short, actor=world.leadership)  # leiing may decide short leave too


def test_an_application_waiting_for_consent_cannot_be_decided(world):
    second_guardian(world)
    application = apply(world)
    with pytest.raises(ValidationError):
        decide(world, application)


def test_decided_applications_cannot_be_withdrawn_or_decided_again(world):
    application = apply(world)
    decide(world, application)
    with pytest.raises(ValidationError):
        decide(world, application)
    with pytest.raises(ValidationError):
        services.leave_application_withdraw(actor=world.guardian_a, application_id=application.pk)


# --- appeals ------------------------------------------------------------------------------


def _declined(world):
    other = second_guardian(world)
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    decide(world, application, Decision.Outcome.DECLINED)
    return application, other


def test_appeal_and_a_changed_decision(world):
    application, other = _declined(world)
    appeal = services.leave_appeal_create(
        actor=other, application_id=application.pk, text="Turen er planlagd i lang tid."
    )
    application.refresh_from_db()
    assert application.status == Status.APPEAL_PENDING
    assert Notification.objects.get(kind="leave.appeal_received").recipient == (
        world.contact_teacher_a
    )
    services.leave_appeal_reconsider(
        actor=world.contact_teacher_a,
        application_id=application.pk,
        change=True,
        note="Nye opplysningar.",
        outcome=Decision.Outcome.APPROVED,
        reasons="Forsvarleg.",
    )
    appeal.refresh_from_db()
    application.refresh_from_db()
    assert appeal.outcome == Appeal.Outcome.CHANGED and appeal.sent_on_at is None
    assert application.status == Status.RECONSIDERED
    latest = application.decisions.order_by("-id").first()
    assert latest.on_appeal and latest.outcome == Decision.Outcome.APPROVED
    assert absence_selectors.leave_days([world.child_a.pk], MONDAY, MONDAY).exists()
    assert Notification.objects.filter(kind="leave.appeal_outcome").count() == 2


def test_an_upheld_appeal_is_a_task_for_the_decider_until_they_record_it_sent(world):
    application, other = _declined(world)
    services.leave_appeal_create(
        actor=world.guardian_a, application_id=application.pk, text="Klage"
    )
    appeal = services.leave_appeal_reconsider(
        actor=world.contact_teacher_a,
        application_id=application.pk,
        change=False,
        note="Vedtaket står ved lag.",
    )
    application.refresh_from_db()
    assert application.status == Status.SENT_TO_STATSFORVALTER
    # Made, but not sent: the decider is told to send it, the guardians that it goes on.
    assert appeal.outcome == Appeal.Outcome.UPHELD and appeal.sent_on_at is None
    assert bytes(appeal.case_pdf).startswith(b"%PDF")
    [task] = Notification.objects.filter(kind="leave.appeal_to_send")
    assert task.recipient == world.contact_teacher_a
    told = Notification.objects.filter(kind="leave.appeal_outcome")
    assert {n.recipient_id for n in told} == {world.guardian_a.pk, other.pk}
    assert not Notification.objects.filter(kind="leave.appeal_sent_on").exists()

    with pytest.raises(PermissionDenied):  # only the decider records it
        services.leave_appeal_sent_on(actor=world.office, application_id=application.pk)
    with pytest.raises(PermissionDenied):
        services.leave_appeal_sent_on(actor=world.guardian_a, application_id=application.pk)
    services.leave_appeal_sent_on(actor=world.contact_teacher_a, application_id=application.pk)
    services.leave_appeal_sent_on(actor=world.contact_teacher_a, application_id=application.pk)
    appeal.refresh_from_db()
    assert appeal.sent_on_at is not None and appeal.sent_on_by == world.contact_teacher_a
    assert AuditEntry.objects.filter(action="leave.appeal.sent_on").count() == 1
    sent_on = Notification.objects.filter(kind="leave.appeal_sent_on")
    assert {n.recipient_id for n in sent_on} == {world.guardian_a.pk, other.pk}


def test_only_an_upheld_appeal_can_be_recorded_as_sent_on(world):
    application, _other = _declined(world)
    with pytest.raises(ValidationError):  # not appealed
        services.leave_appeal_sent_on(actor=world.contact_teacher_a, application_id=application.pk)
    services.leave_appeal_create(actor=world.guardian_a, application_id=application.pk, text="x")
    with pytest.raises(ValidationError):  # not yet reconsidered
        services.leave_appeal_sent_on(actor=world.contact_teacher_a, application_id=application.pk)
    assert not AuditEntry.objects.filter(action="leave.appeal.sent_on").exists()


def test_an_approval_changed_to_a_decline_on_appeal_takes_the_leave_days_back(world):
    application = apply(world, MONDAY, dt.date(2027, 1, 12))
    decide(
        world,
        application,
        Decision.Outcome.PARTLY_APPROVED,
        approved_start=MONDAY,
        approved_end=MONDAY,
    )
    services.leave_appeal_create(actor=world.guardian_a, application_id=application.pk, text="x")
    services.leave_appeal_reconsider(
        actor=world.contact_teacher_a,
        application_id=application.pk,
        change=True,
        note="Feil i saka.",
        outcome=Decision.Outcome.DECLINED,
        reasons="Ikkje forsvarleg.",
    )
    assert not absence_selectors.leave_days([world.child_a.pk], MONDAY, MONDAY).exists()


def test_appeal_rules(world, time_machine):
    application = apply(world, dt.date(2027, 2, 1))
    decide(world, application)
    with pytest.raises(ValidationError):  # all the leave was given
        services.leave_appeal_create(
            actor=world.guardian_a, application_id=application.pk, text="x"
        )
    declined, _other = _declined(world)
    with pytest.raises(PermissionDenied):
        services.leave_appeal_create(actor=world.guardian_b, application_id=declined.pk, text="x")
    with pytest.raises(ValidationError) as excinfo:
        services.leave_appeal_create(actor=world.guardian_a, application_id=declined.pk, text="")
    assert "text" in errors_of(excinfo)
    # After the deadline (15.12.2026) an appeal is received all the same, marked late.
    time_machine.move_to(dt.datetime(2026, 12, 16, 12, 0, tzinfo=dt.UTC))
    appeal = services.leave_appeal_create(
        actor=world.guardian_a, application_id=declined.pk, text="x"
    )
    assert appeal.late


def test_only_one_appeal_and_an_identical_new_decision_is_refused(world):
    application, other = _declined(world)
    services.leave_appeal_create(actor=other, application_id=application.pk, text="Klage")
    with pytest.raises(ValidationError):
        services.leave_appeal_create(
            actor=world.guardian_a, application_id=application.pk, text="y"
        )
    with pytest.raises(ValidationError):
        services.leave_appeal_reconsider(
            actor=world.contact_teacher_a,
            application_id=application.pk,
            change=True,
            note="x",
            outcome=Decision.Outcome.DECLINED,
            reasons="Same",
        )
    with pytest.raises(ValidationError) as excinfo:
        services.leave_appeal_reconsider(
            actor=world.contact_teacher_a, application_id=application.pk, change=False, note=""
        )
    assert "note" in errors_of(excinfo)


# --- the rules ----------------------------------------------------------------------------


def test_only_the_school_admin_changes_the_rules(world):
    for actor in (world.leadership, world.office, world.guardian_a):
        with pytest.raises(PermissionDenied):
            services.leave_rules_save(
                actor=actor, school=world.school, data={"max_days_per_year": 5}
            )
    with pytest.raises(ValidationError):
        services.leave_rules_save(
            actor=world.school_admin,
            school=world.school,
            data={"contact_teacher_max_days": 12, "principal_max_days": 10},
        )
    assert not LeaveRules.objects.exists()
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"max_days_per_year": 5}
    )
    assert AuditEntry.objects.filter(action="leave.rules.updated").count() == 1


def test_approved_leave_explains_absence_and_no_lookup_starts(world, time_machine):
    from kontaktbok.absence import services as absence_services
    from kontaktbok.absence.lookup import selectors as lookup_selectors

    application = apply(world)
    decide(world, application)
    time_machine.move_to(dt.datetime(2027, 1, 11, 9, 30, tzinfo=dt.UTC))
    absence_services.attendance_register(
        actor=world.contact_teacher_a,
        group_id=world.class_a.pk,
        date=MONDAY,
        marks=[
            absence_services.Mark(pupil_id=world.child_a.pk, status="absent"),
            absence_services.Mark(pupil_id=world.child_b.pk, status="absent"),
        ],
    )
    sheet = absence_selectors.day_sheet(
        actor=world.contact_teacher_a, group=world.class_a, date=MONDAY
    )
    explanations = {row.pupil.pk: row.explanation for row in sheet.rows}
    assert explanations[world.child_a.pk] == "leave"
    assert explanations[world.child_b.pk] == "unexplained"
    missing = {m.pupil.pk for m in lookup_selectors.missing_pupils(day=MONDAY)}
    assert world.child_a.pk not in missing


def test_a_restricted_guardian_of_a_protected_pupil_is_never_told(world):
    # guardian_b applies for the protected child; the restricted parent must consent, but
    # is neither notified nor able to answer: the school records the consent.
    application = apply(world, actor=world.guardian_b, pupil_id=world.protected_child.pk)
    assert application.status == Status.AWAITING_CONSENT
    assert not Notification.objects.filter(recipient=world.restricted_guardian).exists()
    with pytest.raises(PermissionDenied):
        services.leave_consent_answer(
            actor=world.restricted_guardian, application_id=application.pk, agree=True
        )
    services.leave_consent_record(
        actor=world.office,
        application_id=application.pk,
        guardian_id=world.restricted_guardian.pk,
        note="Samtykke via advokat.",
    )
    decide(world, application, actor=world.contact_teacher_b)
    told = set(
        Notification.objects.filter(kind="leave.decided").values_list("recipient", flat=True)
    )
    assert told == {world.guardian_b.pk}
