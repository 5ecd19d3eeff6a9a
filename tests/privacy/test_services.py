"""The export's content and its life: each kind of data for a guardian of two children,
nothing of another family with the same names, nothing a restricted guardian may not see,
staff's own data only; the registry of covered models, the JSON Schema; one request at a
time, the worker, failure, the sweep and the week."""

import copy
import datetime as dt
import io
import json

import jsonschema
import pypdf
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from kontaktbok.absence.services import daily_check_mark
from kontaktbok.accounts.invitations import invitation_send
from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.leave import services as leave_services
from kontaktbok.messaging.models import Participant, Thread
from kontaktbok.notifications.models import Notification
from kontaktbok.notifications.services import notify
from kontaktbok.privacy import registry, services
from kontaktbok.privacy.build import SCHEMA_PATH
from kontaktbok.privacy.models import OFFERED_FOR, DataExport, DataExportFile
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import Pupil
from tests import factories
from tests.conftest import built_for_module
from tests.messaging.helpers import PDF, guardian_thread
from tests.privacy.helpers import (
    OTHER,
    FamilyA,
    SameNames,
    _apply,
    export_of,
    family_a,
    open_export,
    same_names,
)


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    def build():
        world = factories.world()
        return world, family_a(world), same_names(world)

    with built_for_module(django_db_blocker, build) as built:
        yield built


@pytest.fixture
def seeded(_seeded, db) -> tuple[factories.World, FamilyA, SameNames]:
    """The world with guardian_a's family and the family with the same names, built once
    for the module; each test's changes are rolled back."""
    from django.core.cache import cache

    cache.clear()
    return copy.deepcopy(_seeded)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


# --- what is in it ------------------------------------------------------------------------


def test_a_guardian_of_two_children_gets_each_kind_of_data(seeded):
    w, family, _other = seeded
    opened = export_of(w.guardian_a)
    data = opened.data
    anna, aksel = (
        next(c for c in data["children"] if c["id"] == child.pk)
        for child in (w.child_a, w.child_a2)
    )
    assert len(data["children"]) == 2
    # Absence: the report, the registered absence, the lookup case with its timeline.
    assert [r["comment"] for r in anna["absence_reports"]] == [family.report_comment]
    assert [(m["status"], m["group"]) for m in aksel["attendance_marks"]] == [("absent", "9B")]
    [case] = aksel["lookup_cases"]
    assert case["answer"] == "on_the_way"
    assert {e["event"] for e in case["timeline"]} >= {"registered", "opened", "alert", "answered"}
    # Leave: both applications with consent, decisions, letters, the appeal and its case.
    [approved] = anna["leave_applications"]
    assert approved["applicant"] == family.co_parent.full_name
    assert [c["answer"] for c in approved["consents"]] == ["agreed"]
    assert anna["leave_days"] == [
        {
            "from": "2027-01-12",
            "to": "2027-01-12",
            "recorded_at": anna["leave_days"][0]["recorded_at"],
        }
    ]
    [declined] = aksel["leave_applications"]
    assert declined["decisions"][0]["outcome"] == "declined"
    assert declined["appeal"]["text"] == family.appeal_text
    letters = [approved["decisions"][0]["letter"], declined["decisions"][0]["letter"]]
    for path in [*letters, declined["appeal"]["case"]]:
        assert opened.members[path].startswith(b"%PDF"), path
    # The access log: the contact teacher read Aksel's absence.
    with translation.override("nn"):  # the person's language: the default
        absence_read = gettext("absence, with type and comment")
    assert [(r["who"], r["what"]) for r in aksel["access_log"]] == [("Teacher B", absence_read)]
    # Consents, messages with the attachment's bytes, notifications and settings.
    assert [(c["child"], c["answer"]) for c in data["consents"]] == [
        (w.child_a.full_name, "agreed")
    ]
    [thread] = data["messages"]["threads"]
    assert thread["id"] == family.thread_id
    assert [m["text"] for m in thread["messages"]] == [
        "Har Anna gløymt gymtøyet?",
        "Ja, det ligg her.",
    ]
    [attachment] = thread["messages"][0]["attachments"]
    assert opened.members[attachment["file"]] == PDF
    kinds = {n["kind"] for n in data["notifications"]["items"]}
    assert {
        "absence.lookup.alert",
        "leave.decided",
        "leave.consent_requested",
        "messaging.message",
    } <= kinds
    assert data["notifications"]["daily_digest"] is True
    assert data["notifications"]["preferences"] == [
        {"kind": "messaging.message", "email": True, "push": False, "sms": False}
    ]
    # The account and its history, never the password hash.
    assert data["account"]["email"] == w.guardian_a.email
    assert "privacy.export.requested" in [h["action"] for h in data["account"]["history"]]
    assert w.guardian_a.password not in opened.text
    # The files beside data.json, listed in it; the summary names both children.
    assert {f["path"] for f in data["files"]} == set(opened.names) - {
        "README.txt",
        "data.json",
        "data.schema.json",
        "summary.pdf",
    }
    summary = _pdf_text(opened.members["summary.pdf"])
    assert w.child_a.full_name in summary and w.child_a2.full_name in summary
    assert "Har Anna gløymt gymtøyet?" in summary
    with translation.override("nn"):  # the person's language: the default
        headings = [gettext(h) for h in ("LEGAL BASIS", "WHO RECEIVES THE DATA")]
    for heading in headings:
        assert heading in opened.readme


def test_nothing_of_another_family_with_the_same_names(seeded):
    w, _family, other = seeded
    opened = export_of(w.guardian_a)
    assert OTHER not in opened.text
    assert OTHER not in _pdf_text(opened.members["summary.pdf"])
    assert {c["id"] for c in opened.data["children"]} == {w.child_a.pk, w.child_a2.pk}
    other_threads = set(
        Thread.objects.filter(pupil__in=other.children).values_list("pk", flat=True)
    )
    assert not other_threads & {t["id"] for t in opened.data["messages"]["threads"]}
    assert other.guardian.email not in opened.text
    # The other family's own export is theirs: their children, their marked records.
    theirs = export_of(other.guardian)
    assert {c["id"] for c in theirs.data["children"]} == {c.pk for c in other.children}
    assert OTHER in theirs.text and "Feber hjå Anna" not in theirs.text


def test_the_restricted_guardian_gets_nothing_of_the_child_kept_from_them(seeded):
    w, _family, _other = seeded
    vern = w.protected_child
    application = _apply(w.guardian_b, vern, "Vern si reise")
    leave_services.leave_consent_record(
        actor=w.contact_teacher_b,
        application_id=application.pk,
        guardian_id=w.restricted_guardian.pk,
        note="Signert brev.",
    )
    guardian_thread(w, guardian=w.guardian_b, pupil=vern, subject="Om Vern", body="Vern er sjuk")
    # A notice naming Vern's school (as an invitation from it would).
    notify(
        recipient=w.restricted_guardian,
        kind="accounts.invitation",
        dedup_key="test-invitation",
        payload={"school": w.school.name, "until": "1.12.2026"},
        school_id=w.school.pk,
    )
    opened = export_of(w.restricted_guardian)
    assert opened.data["children"] == []
    assert opened.data["consents"] == []
    assert opened.data["messages"]["threads"] == []
    assert opened.data["notifications"]["items"] == []
    summary = _pdf_text(opened.members["summary.pdf"])
    for word in (vern.first_name, vern.last_name, w.school.name, "Vern si reise"):
        assert word not in opened.text, word
        assert word not in summary, word
    assert not [name for name in opened.names if name.startswith(("letters/", "attachments/"))]
    # Vern's other guardian, who may see him, gets the application and the consent.
    theirs = export_of(w.guardian_b)
    [vern_data] = [c for c in theirs.data["children"] if c["id"] == vern.pk]
    [consent] = vern_data["leave_applications"][0]["consents"]
    assert consent["recorded_by_school"] is True


def test_staff_get_their_own_data_and_no_pupils_records(seeded):
    w, family, _other = seeded
    daily_check_mark(actor=w.contact_teacher_a, group_id=w.class_a.pk)
    opened = export_of(w.contact_teacher_a)
    data = opened.data
    assert data["children"] == [] and data["consents"] == []
    [member] = data["staff"]
    assert member["school"] == w.school.name
    assert [(r["role"], r["group"]) for r in member["roles"]] == [("contact_teacher", "4A")]
    assert [c["group"] for c in data["work"]["daily_checks"]] == ["4A"]
    # The threads they are on (both families' about a child in 4A), with the attachment;
    # not Anna's absence or leave records.
    on = set(Participant.objects.filter(user=w.contact_teacher_a).values_list("thread", flat=True))
    assert {t["id"] for t in data["messages"]["threads"]} == on
    [thread] = [t for t in data["messages"]["threads"] if t["id"] == family.thread_id]
    assert opened.members[thread["messages"][0]["attachments"][0]["file"]] == PDF
    for word in (family.report_comment, "God grunn.", "Fjelltur"):
        assert word not in opened.text, word


def test_an_invitation_is_listed_without_its_one_time_link(seeded):
    w, _family, _other = seeded
    invited = factories.user("Invited Parent", password="")
    school_services.guardianship_set(actor=None, guardian=invited, pupil=w.child_b)
    invitation_send(actor=w.office, user=invited, school=w.school)
    notice = Notification.objects.get(recipient=invited, kind="accounts.invitation")
    opened = export_of(invited)
    assert [i["school"] for i in opened.data["account"]["invitations"]] == [w.school.name]
    [item] = [n for n in opened.data["notifications"]["items"] if n["kind"] == notice.kind]
    assert item["link"] == "" and notice.url not in opened.text


def test_the_person_language_is_used(seeded):
    w, _family, _other = seeded
    w.guardian_b.language = "en"
    w.guardian_b.save(update_fields=["language"])
    opened = export_of(w.guardian_b)
    assert opened.data["language"] == "en"
    reader = pypdf.PdfReader(io.BytesIO(opened.members["summary.pdf"]))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert export_of(w.guardian_a).data["language"] == "nn"  # no choice made: Nynorsk


# --- the registry and the schema ----------------------------------------------------------


def reaching_models(candidates: list[type[models.Model]]) -> set[type[models.Model]]:
    """The models among ``candidates`` with a key to a person or a pupil, directly or
    through other rows."""
    reached: set[type[models.Model]] = {get_user_model(), Pupil}
    grew = True
    while grew:
        grew = False
        for model in candidates:
            if model in reached:
                continue
            if any(
                field.is_relation
                and field.concrete
                and (field.many_to_one or field.one_to_one)
                and field.related_model in reached
                for field in model._meta.get_fields()
            ):
                reached.add(model)
                grew = True
    return {m for m in reached if m in candidates}


def uncovered(candidates: list[type[models.Model]]) -> list[str]:
    named = registry.COVERED.keys() | registry.EXCLUDED.keys()
    return sorted(
        m._meta.label_lower for m in reaching_models(candidates) if m._meta.label_lower not in named
    )


def test_every_model_with_a_key_to_a_person_or_pupil_is_covered_or_excluded():
    installed = apps.get_models(include_auto_created=True)
    assert uncovered(installed) == []
    assert not registry.COVERED.keys() & registry.EXCLUDED.keys()
    labels = {m._meta.label_lower for m in installed}
    assert not (registry.COVERED.keys() | registry.EXCLUDED.keys()) - labels, "stale names"
    assert all(reason.strip() for reason in registry.EXCLUDED.values())


@isolate_apps("kontaktbok.privacy")
def test_the_registry_test_fails_for_a_new_model_that_is_not_named():
    class Note(models.Model):  # noqa: DJ008  (a key to a person)
        person = models.ForeignKey(get_user_model(), on_delete=models.CASCADE)

        class Meta:
            app_label = "privacy"

    class Reaction(models.Model):  # noqa: DJ008  (a key to a thread, about a pupil)
        thread = models.ForeignKey(Thread, on_delete=models.CASCADE)

        class Meta:
            app_label = "privacy"

    installed = apps.get_models(include_auto_created=True)
    assert uncovered([*installed, Note, Reaction]) == ["privacy.note", "privacy.reaction"]


def test_data_json_validates_against_the_documented_schema(seeded):
    w, _family, _other = seeded
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for person in (w.guardian_a, w.restricted_guardian, w.contact_teacher_b):
        opened = export_of(person)
        assert json.loads(opened.members["data.schema.json"]) == schema
        errors = sorted(validator.iter_errors(opened.data), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    broken = copy.deepcopy(opened.data)
    broken["children"] = [{"id": 1}]
    assert not validator.is_valid(broken)


# --- asking, building, failing, deleting ----------------------------------------------------


def test_asking_again_while_one_is_queued_returns_it(seeded, queued_tasks):
    w, _family, _other = seeded
    first, new = services.export_request(actor=w.guardian_a)
    again, new_again = services.export_request(actor=w.guardian_a)
    assert (new, new_again) == (True, False)
    assert again.pk == first.pk and first.status == DataExport.Status.QUEUED
    assert [name for name, _args, _kwargs in queued_tasks] == ["build_export"]
    assert AuditEntry.objects.filter(action="privacy.export.requested").count() == 1


def test_the_worker_offers_it_for_a_week_encrypted_audited_and_tells_the_person(seeded):
    w, _family, _other = seeded
    opened = export_of(w.guardian_a)
    export = opened.export
    assert export.expires_at == export.ready_at + OFFERED_FOR
    ciphertext = bytes(DataExportFile.objects.get(export=export).ciphertext)
    assert b"data.json" not in ciphertext and not ciphertext.startswith(b"PK")
    assert export.size > 0
    ready = AuditEntry.objects.get(action="privacy.export.ready", object_id=str(export.pk))
    assert sorted(ready.detail["pupils"]) == sorted([w.child_a.pk, w.child_a2.pk])
    included = AuditEntry.objects.filter(action="privacy.export.pupil_included")
    assert sorted(included.values_list("pupil_id", flat=True)) == sorted(
        [w.child_a.pk, w.child_a2.pk]
    )
    notice = Notification.objects.get(recipient=w.guardian_a, kind="privacy.export_ready")
    assert notice.url == reverse("privacy_home") and notice.payload["expires"]
    # Asking again once it is ready makes a new one.
    again, new = services.export_request(actor=w.guardian_a)
    assert new and again.pk != export.pk


def test_a_failed_build_is_marked_and_a_new_request_can_be_made(seeded, monkeypatch):
    w, _family, _other = seeded

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "collect", broken)
    export, _new = services.export_request(actor=w.guardian_a)
    export.refresh_from_db()
    assert export.status == DataExport.Status.FAILED
    assert AuditEntry.objects.filter(
        action="privacy.export.failed", object_id=str(export.pk)
    ).exists()
    assert not DataExportFile.objects.filter(export=export).exists()
    _again, new = services.export_request(actor=w.guardian_a)
    assert new


def test_a_request_left_queued_is_queued_again_then_fails(seeded, queued_tasks, time_machine):
    w, _family, _other = seeded
    export, _new = services.export_request(actor=w.guardian_a)
    assert services.exports_build_stale() == 0  # just asked for
    time_machine.move_to(clock.now() + dt.timedelta(minutes=31))
    assert services.exports_build_stale() == 1
    assert services.exports_build_stale() == 0  # queued again just now
    assert [name for name, _a, _k in queued_tasks] == ["build_export", "build_export"]
    DataExport.objects.filter(pk=export.pk).update(attempts=services.MAX_ATTEMPTS)
    time_machine.move_to(clock.now() + dt.timedelta(minutes=31))
    assert services.exports_build_stale() == 0
    export.refresh_from_db()
    assert export.status == DataExport.Status.FAILED


def test_the_file_is_deleted_after_its_week(seeded, time_machine):
    w, _family, _other = seeded
    export = open_export(services.export_request(actor=w.guardian_b)[0]).export
    time_machine.move_to(export.expires_at - dt.timedelta(minutes=1))
    assert services.exports_delete_expired() == 0
    time_machine.move_to(export.expires_at + dt.timedelta(minutes=1))
    assert services.exports_delete_expired() == 1
    export.refresh_from_db()
    assert export.deleted_at is not None and export.status == DataExport.Status.READY
    assert not DataExportFile.objects.filter(export=export).exists()
    assert AuditEntry.objects.filter(
        action="privacy.export.deleted", object_id=str(export.pk)
    ).exists()
    assert services.exports_delete_expired() == 0


def test_the_login_history_is_each_login(world, client):
    from kontaktbok.privacy.collect.account import history

    client.force_login(world.guardian_a)
    client.force_login(world.guardian_b)  # another person's login is not hers
    assert [h["action"] for h in history(world.guardian_a)].count("accounts.login") == 1
