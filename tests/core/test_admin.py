"""The technical Django admin is no way around the audit log: pupils, guardianships,
groups' pupils, staff and their roles cannot be changed there, and every change a superuser
makes in what remains is audited."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import reverse

from kontaktbok.accounts.models import User
from kontaktbok.core.models import AuditEntry
from kontaktbok.schools.models import Guardianship, StaffRole
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(world) -> tuple[Client, User]:
    superuser = User.objects.create_superuser(email="drift@kommune.test", password="x" * 20)
    TOTP.activate(superuser, factories.TOTP_SECRET)  # superusers must have a second factor
    client = Client()
    client.force_login(superuser)
    return client, superuser


def _change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def test_the_people_and_their_roles_are_read_only(world, superuser_client):
    client, _superuser = superuser_client
    pupil = world.protected_child
    restricted = Guardianship.objects.get(guardian=world.restricted_guardian)
    role = StaffRole.objects.get(member__user=world.office)
    for obj in (pupil, restricted, role.member, world.class_b):
        page = client.get(_change_url(obj))
        assert page.status_code == 200  # shown ...
        assert b'name="_save"' not in page.content  # ... with nothing to save
    response = client.post(
        _change_url(pupil),
        {"first_name": "X", "last_name": "Y", "protected_address": ""},
    )
    assert response.status_code == 403
    response = client.post(_change_url(restricted), {"restricted": ""})
    assert response.status_code == 403
    pupil.refresh_from_db()
    restricted.refresh_from_db()
    assert pupil.protected_address and restricted.restricted
    for model in ("pupil", "guardianship", "staffmember", "group"):
        assert client.get(reverse(f"admin:schools_{model}_add")).status_code == 403


def test_a_superusers_change_is_audited(world, superuser_client):
    client, superuser = superuser_client
    school = world.school
    page = client.get(_change_url(school))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["name"] = "Vassenden skule"
    response = client.post(_change_url(school), data)
    assert response.status_code == 302, response.content
    entry = AuditEntry.objects.get(action="admin.schools.school.changed")
    assert entry.actor == superuser
    assert entry.detail == {"fields": ["name"]}
    assert entry.role == "superuser"
