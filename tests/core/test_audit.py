import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from kontaktbok.core.audit import AuditDetailError, audit_log
from kontaktbok.core.models import AuditEntry


def test_entry_records_actor_role_object_and_time(world):
    entry = audit_log(
        actor=world.office,
        action="schools.pupil.read",
        obj=world.child_a,
        role="office",
        school_id=world.school.pk,
        detail={"via": "test"},
    )
    assert entry.actor_name == "Office"
    assert entry.object_type == "schools.pupil"
    assert entry.object_id == str(world.child_a.pk)
    assert entry.created_at is not None


def test_action_codes_are_namespaced(db):
    with pytest.raises(ValueError):
        audit_log(actor=None, action="created")


@pytest.mark.parametrize("key", ["password", "nin", "token", "secret"])
def test_secrets_never_reach_the_log(db, key):
    with pytest.raises(AuditDetailError):
        audit_log(actor=None, action="test.thing.done", detail={"outer": {key: "x"}})


def test_the_log_is_append_only_in_python(db):
    entry = audit_log(actor=None, action="test.thing.done")
    entry.action = "test.thing.changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(action="x.y")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_changes_to_the_log(db):
    entry = audit_log(actor=None, action="test.thing.done")
    table = AuditEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET action = 'x.y' WHERE id = %s", [entry.pk])  # noqa: S608
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])  # noqa: S608
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing.done"
    # The pupil an entry is about cannot be changed either.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET pupil_id = 1 WHERE id = %s", [entry.pk])  # noqa: S608


def test_deleting_a_user_keeps_their_entries(world):
    user = world.guardian_b
    audit_log(actor=user, action="test.thing.done")
    user.delete()
    entry = AuditEntry.objects.get(action="test.thing.done")
    assert entry.actor is None
    assert entry.actor_name == "Guardian B"


def test_reading_a_pupil_is_audited(world):
    client = Client()
    client.force_login(world.office)
    client.get(reverse("pupil_detail", args=[world.child_a.pk]))
    entry = AuditEntry.objects.get(action="schools.pupil.read")
    assert entry.actor == world.office
    assert entry.role == "office"
    assert entry.object_id == str(world.child_a.pk)


def test_leadership_searches_only_their_own_school(world):
    audit_log(actor=world.office, action="schools.pupil.read", school_id=world.school.pk)
    audit_log(
        actor=None,
        action="schools.pupil.read",
        school_id=world.other_school.pk,
        detail={"marker": "other"},
    )
    client = Client()
    client.force_login(world.leadership)
    page = client.get(reverse("audit_search"), {"action": "schools.pupil"})
    assert page.status_code == 200
    entries = list(page.context["page"])
    assert entries
    assert {e.school_id for e in entries} == {world.school.pk}
    assert "Office" in page.content.decode()


def test_audit_search_rejects_bad_dates_in_the_users_language(world):
    client = Client()
    client.force_login(world.leadership)
    page = client.get(reverse("audit_search"), {"date_from": "2026-12-01", "date_to": "2026-11-01"})
    assert page.status_code == 200
    assert "Startdatoen må vere før sluttdatoen." in page.content.decode()
    page = client.get(reverse("audit_search"), {"date_from": "ikkje ein dato"})
    assert list(page.context["page"]) == []
