"""The relay log's writes: opening, consent, participants, the baton, the plan and the
append-only entries."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.messaging import files as filetypes
from kontaktbok.notifications.models import Notification
from kontaktbok.relaylog import access, services
from kontaktbok.relaylog.models import (
    Attachment,
    Consent,
    Entry,
    Handover,
    Participant,
    RelayLog,
    RelayLogSettings,
)
from tests.relaylog.helpers import consented, open_log, scanned_form, set_age, with_nurse

pytestmark = pytest.mark.django_db


def test_leadership_opens_a_draft_the_guardians_take_part_in_and_are_asked_to_consent(world):
    log = open_log(world)
    assert log.state == RelayLog.State.DRAFT
    kinds = {(p.user_id, p.kind) for p in Participant.objects.filter(log=log)}
    assert kinds == {
        (world.leadership.pk, Participant.Kind.STAFF),
        (world.guardian_a.pk, Participant.Kind.GUARDIAN),
    }
    asked = Notification.objects.get(recipient=world.guardian_a, kind="relaylog.consent")
    assert asked.payload == {"child": "Aksel"}
    assert AuditEntry.objects.filter(action="relaylog.log.created", object_id=str(log.pk)).exists()
    assert list(Handover.objects.filter(log=log).values_list("to_user", "state")) == [
        (world.leadership.pk, "accepted")
    ]


def test_only_leadership_or_staff_it_allows_open_a_log(world):
    with pytest.raises(PermissionDenied):
        open_log(world.__class__(**{**world.__dict__, "leadership": world.contact_teacher_b}))
    services.creator_allow(
        actor=world.leadership, school_id=world.school.pk, user=world.contact_teacher_b
    )
    log = services.log_create(
        actor=world.contact_teacher_b,
        pupil=world.child_a2,
        concern="Uro",
        level=0,
        holder=world.contact_teacher_b,
    )
    assert log.decide_by == clock.today() + dt.timedelta(days=14)
    with pytest.raises(PermissionDenied):
        services.log_create(
            actor=world.other_leadership,
            pupil=world.child_a2,
            concern="Uro",
            level=0,
            holder=world.other_leadership,
        )


def test_the_restricted_guardian_and_the_one_without_responsibility_never_take_part(world):
    log = open_log(world, world.protected_child)
    users = set(Participant.objects.filter(log=log).values_list("user_id", flat=True))
    assert world.guardian_b.pk in users
    assert world.restricted_guardian.pk not in users
    log_b = open_log(world, world.child_b)
    users_b = set(Participant.objects.filter(log=log_b).values_list("user_id", flat=True))
    assert world.guardian_without_responsibility.pk not in users_b
    assert not Notification.objects.filter(recipient=world.restricted_guardian).exists()


def test_the_log_becomes_active_when_every_guardian_has_consented(world):
    log = consented(world)
    assert log.state == RelayLog.State.ACTIVE
    consent = Consent.objects.get(log=log)
    assert consent.method == "digital" and consent.language == "nn"
    assert "Aksel" in consent.text


def test_consent_text_is_in_the_persons_language(world):
    log = open_log(world)
    services.consent_give(actor=world.guardian_a, log_id=log.pk, language="en")
    assert Consent.objects.get(log=log).text.startswith("I consent to a relay log")


@pytest.mark.parametrize(
    ("years", "days_after", "needed"),
    [(14, 0, False), (15, 0, True), (15, -1, False), (16, 30, True)],
)
def test_the_pupils_own_consent_is_needed_from_the_consent_age(world, years, days_after, needed):
    """15 on the birthday itself; 14 the day before (default setting)."""
    set_age(world.child_a2, years, days_after_birthday=days_after) if days_after >= 0 else (
        set_age(world.child_a2, years - 1, days_after_birthday=364)
    )
    log = consented(world)
    assert access.pupil_consents(log.pupil, world.school.municipality_id) is needed
    assert (log.state == RelayLog.State.ACTIVE) is not needed


def test_the_consent_age_is_the_municipalitys_setting(world):
    set_age(world.child_a2, 15)
    RelayLogSettings.objects.create(municipality=world.school.municipality, consent_age=16)
    assert consented(world).state == RelayLog.State.ACTIVE


def test_a_pupil_of_age_is_invited_and_consents(world):
    set_age(world.child_a2, 16)
    log = consented(world)
    assert log.state == RelayLog.State.DRAFT
    pupil = services.participant_invite(
        actor=world.leadership,
        log_id=log.pk,
        kind=Participant.Kind.PUPIL,
        email="aksel@elev.no",
        full_name="Aksel Elev",
    )
    assert not pupil.user.has_usable_password()  # logs in with ID-porten, never a password
    services.consent_give(actor=pupil.user, log_id=log.pk, language="nb")
    log.refresh_from_db()
    assert log.state == RelayLog.State.ACTIVE


def test_a_pupil_under_the_age_cannot_be_invited(world):
    log = consented(world)
    with pytest.raises(ValidationError):
        services.participant_invite(
            actor=world.leadership,
            log_id=log.pk,
            kind=Participant.Kind.PUPIL,
            email="aksel@elev.no",
            full_name="Aksel",
        )


def test_paper_consent_is_recorded_by_staff_with_the_form_encrypted(world):
    log = open_log(world)
    consent = services.consent_record_paper(
        actor=world.leadership,
        log_id=log.pk,
        given_by_kind="guardian",
        guardian_id=world.guardian_a.pk,
        scanned_form=scanned_form(),
    )
    form = Attachment.objects.get(pk=consent.scanned_form_id)
    assert b"%PDF" not in bytes(form.ciphertext)
    assert filetypes.decrypt(bytes(form.ciphertext), name=str(form.uuid)).startswith(b"%PDF")
    log.refresh_from_db()
    assert log.state == RelayLog.State.ACTIVE


def test_paper_consent_needs_the_form_and_a_guardian_with_responsibility(world):
    log = open_log(world, world.child_b)
    with pytest.raises(ValidationError):
        services.consent_record_paper(
            actor=world.leadership,
            log_id=log.pk,
            given_by_kind="guardian",
            guardian_id=world.guardian_b.pk,
            scanned_form=None,
        )
    with pytest.raises(ValidationError):
        services.consent_record_paper(
            actor=world.leadership,
            log_id=log.pk,
            given_by_kind="guardian",
            guardian_id=world.guardian_without_responsibility.pk,
            scanned_form=scanned_form(),
        )
    assert not Consent.objects.exists() and not Attachment.objects.exists()


def test_a_service_reads_only_after_the_guardians_consent_to_it(world):
    log = consented(world)
    nurse = with_nurse(world, log, consent=False)
    with pytest.raises(Http404):
        access.participation(nurse.user, log.pk)
    services.consent_give(
        actor=world.guardian_a, log_id=log.pk, service="Helsestasjon", language="nn"
    )
    assert access.participation(nurse.user, log.pk)[0] == log


def test_withdrawing_consent_removes_the_services_access_at_once(world):
    log = consented(world)
    nurse = with_nurse(world, log)
    assert access.participation(nurse.user, log.pk)
    consent = Consent.objects.get(log=log, service="Helsestasjon")
    services.consent_withdraw(actor=world.guardian_a, log_id=log.pk, consent_id=consent.pk)
    with pytest.raises(Http404):
        access.participation(nurse.user, log.pk)
    assert AuditEntry.objects.filter(action="relaylog.consent.withdrawn").exists()
    # The school still reads; the guardian too.
    assert access.participation(world.leadership, log.pk)
    assert access.participation(world.guardian_a, log.pk)


def test_withdrawing_the_consent_to_the_log_makes_it_a_draft_again(world):
    log = consented(world)
    nurse = with_nurse(world, log)
    base = Consent.objects.get(log=log, service="")
    services.consent_withdraw(actor=world.guardian_a, log_id=log.pk, consent_id=base.pk)
    log.refresh_from_db()
    assert log.state == RelayLog.State.DRAFT
    with pytest.raises(Http404):
        access.participation(nurse.user, log.pk)
    with pytest.raises(ValidationError):
        services.entry_add(actor=world.leadership, log_id=log.pk, body="Møte")


def test_one_may_not_withdraw_someone_elses_consent_unless_school_staff(world):
    log = consented(world)
    nurse = with_nurse(world, log)
    consent = Consent.objects.get(log=log, service="Helsestasjon")
    with pytest.raises(PermissionDenied):
        services.consent_withdraw(actor=nurse.user, log_id=log.pk, consent_id=consent.pk)


def test_a_guardian_who_loses_parental_responsibility_loses_the_log(world):
    log = consented(world)
    world.guardian_a.guardianships.filter(pupil=world.child_a2).update(
        parental_responsibility=False
    )
    with pytest.raises(Http404):
        access.participation(world.guardian_a, log.pk)
    # Not even a count of logs waiting: only a service waits for consent.
    assert access.readable_and_waiting(world.guardian_a) == ([], 0)


def test_a_service_waiting_for_consent_gets_a_count_and_nothing_else(world):
    log = consented(world)
    nurse = with_nurse(world, log, consent=False)
    assert access.readable_and_waiting(nurse.user) == ([], 1)
    services.consent_give(
        actor=world.guardian_a, log_id=log.pk, service="Helsestasjon", language="nn"
    )
    readable, waiting = access.readable_and_waiting(nurse.user)
    assert [found.pk for found, _p in readable] == [log.pk] and waiting == 0


def test_entries_are_append_only_a_correction_points_to_the_corrected(world):
    log = consented(world)
    first = services.entry_add(actor=world.leadership, log_id=log.pk, body="Møte 1. des.")
    correction = services.entry_add(
        actor=world.guardian_a, log_id=log.pk, body="Møtet var 2. des.", corrects_id=first.pk
    )
    first.refresh_from_db()
    assert first.body == "Møte 1. des."
    assert correction.corrects_id == first.pk
    assert correction.author_role in {"guardian", "føresett"}
    with pytest.raises(TypeError):
        Entry.objects.filter(pk=first.pk).update(body="changed")
    with pytest.raises(TypeError):
        Entry.objects.filter(pk=first.pk).delete()
    assert not hasattr(services, "entry_update") and not hasattr(services, "entry_delete")
    assert Entry.objects.count() == 2


def test_a_new_entry_tells_the_others_without_content(world):
    log = consented(world)
    nurse = with_nurse(world, log)
    entry = services.entry_add(actor=world.leadership, log_id=log.pk, body="Hemmeleg innhald")
    told = Notification.objects.filter(
        kind="relaylog.entry", dedup_key=f"relaylog-entry:{entry.pk}"
    )
    assert {n.recipient_id for n in told} == {world.guardian_a.pk, nurse.user_id}
    for notification in told:
        assert notification.payload == {"child": "Aksel"}
        assert "Hemmeleg" not in str(notification.payload)


def test_an_entry_with_an_attachment_is_stored_encrypted(world):
    log = consented(world)
    entry = services.entry_add(
        actor=world.leadership,
        log_id=log.pk,
        body="Referat",
        attachment=scanned_form("referat.pdf"),
    )
    stored = Attachment.objects.get(pk=entry.attachment_id)
    assert b"%PDF" not in bytes(stored.ciphertext)
    _attachment, data = services.attachment_open(
        actor=world.guardian_a, log_id=log.pk, attachment_uuid=stored.uuid
    )
    assert data.startswith(b"%PDF")
    assert AuditEntry.objects.filter(
        action="relaylog.attachment.read", actor=world.guardian_a
    ).exists()


def test_the_baton_moves_only_when_the_next_holder_accepts(world):
    log = consented(world)
    services.participant_invite(
        actor=world.leadership,
        log_id=log.pk,
        kind=Participant.Kind.STAFF,
        user_id=world.contact_teacher_b.pk,
    )
    handover = services.handover_request(
        actor=world.leadership, log_id=log.pk, to_user_id=world.contact_teacher_b.pk
    )
    log.refresh_from_db()
    assert log.holder_id == world.leadership.pk
    with pytest.raises(PermissionDenied):
        services.handover_answer(
            actor=world.guardian_a, log_id=log.pk, handover_id=handover.pk, accept=True
        )
    services.handover_answer(
        actor=world.contact_teacher_b, log_id=log.pk, handover_id=handover.pk, accept=True
    )
    log.refresh_from_db()
    assert log.holder_id == world.contact_teacher_b.pk
    assert list(Handover.objects.filter(log=log).values_list("to_user", "state")) == [
        (world.leadership.pk, "accepted"),
        (world.contact_teacher_b.pk, "accepted"),
    ]
    with pytest.raises(PermissionDenied):  # no longer the holder
        services.handover_request(
            actor=world.leadership, log_id=log.pk, to_user_id=world.contact_teacher_b.pk
        )


def test_the_baton_cannot_go_to_a_guardian_or_a_service_without_consent(world):
    log = consented(world)
    nurse = with_nurse(world, log, consent=False)
    for user in (world.guardian_a, nurse.user):
        with pytest.raises(ValidationError):
            services.handover_request(actor=world.leadership, log_id=log.pk, to_user_id=user.pk)


def test_plan_goals_measures_and_evaluations(world):
    log = consented(world)
    goal = services.goal_add(actor=world.leadership, log_id=log.pk, text="Kome på skulen kvar dag")
    today = clock.today()
    measure = services.measure_add(
        actor=world.leadership,
        log_id=log.pk,
        goal_id=goal.pk,
        text="Henting om morgonen",
        responsible="Kontaktlærar",
        deadline=today + dt.timedelta(days=30),
        evaluate_on=today + dt.timedelta(days=14),
    )
    evaluation = services.evaluation_add(
        actor=world.leadership,
        log_id=log.pk,
        measure_id=measure.pk,
        text="Går betre",
        outcome="continue",
    )
    assert evaluation.measure_id == measure.pk
    with pytest.raises(PermissionDenied):  # guardians write entries, not the plan
        services.goal_add(actor=world.guardian_a, log_id=log.pk, text="x")
    with pytest.raises(ValidationError):
        services.measure_add(
            actor=world.leadership,
            log_id=log.pk,
            goal_id=goal.pk,
            text="x",
            responsible="y",
            deadline=today,
            evaluate_on=today - dt.timedelta(days=1),
        )


def test_a_participant_of_another_log_cannot_write_in_this_one(world):
    log = consented(world)
    other = consented(world, world.child_b)
    with pytest.raises(Http404):
        services.entry_add(actor=world.guardian_b, log_id=log.pk, body="x")
    assert other.state == RelayLog.State.ACTIVE


def test_reads_are_audited_per_entry(world):
    from kontaktbok.relaylog import selectors

    log = consented(world)
    services.entry_add(actor=world.leadership, log_id=log.pk, body="Ein")
    page = selectors.log_page(world.guardian_a, log.pk)
    services.record_reads(
        actor=world.guardian_a, log=log, participant=page["me"], entries=page["entries"]
    )
    _log, rows = selectors.reads(world.guardian_a, log.pk)
    assert [r.action for r in rows if r.actor_id == world.guardian_a.pk] == [
        "relaylog.entry.read",
        "relaylog.log.read",
    ] or sorted(r.action for r in rows) == ["relaylog.entry.read", "relaylog.log.read"]
