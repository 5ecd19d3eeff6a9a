"""The My data page: asking for a copy, the list, downloading one's own copy during its
week (410 after it, 404 for anyone else's), and the link to the page."""

import datetime as dt
import io
import json
import zipfile

from django.conf import settings
from django.test import Client
from django.urls import reverse

from kontaktbok.core.models import AuditEntry
from kontaktbok.privacy import services
from kontaktbok.privacy.models import DataExport
from tests.privacy.helpers import OTHER, same_names
from tests.query_counts import assert_same_count, counted


def _client(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the texts below are English
    client.force_login(user)
    return client


HOME = reverse("privacy_home")
REQUEST = reverse("privacy_export_request")


def _download_url(export: DataExport) -> str:
    return reverse("privacy_export_download", args=[export.pk])


def test_the_page_is_linked_from_every_page_for_the_signed_in(world):
    page = _client(world.guardian_a).get(reverse("home")).content.decode()
    assert f'href="{HOME}"' in page


def test_a_guardian_asks_and_downloads_the_copy(world):
    same_names(world)
    client = _client(world.guardian_a)
    page = client.get(HOME)
    assert page.status_code == 200 and b'data-testid="export"' not in page.content
    response = client.post(REQUEST)
    assert response.status_code == 302 and response["Location"] == HOME
    export = DataExport.objects.get(person=world.guardian_a)
    assert export.status == DataExport.Status.READY  # the worker ran when the request committed
    page = client.get(HOME).content.decode()
    assert _download_url(export) in page
    download = client.get(_download_url(export))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        data = json.loads(archive.read("data.json"))
        assert {"README.txt", "summary.pdf", "data.schema.json"} <= set(archive.namelist())
    assert {c["id"] for c in data["children"]} == {world.child_a.pk, world.child_a2.pk}
    assert OTHER not in json.dumps(data)
    export.refresh_from_db()
    assert export.downloaded_at is not None
    assert AuditEntry.objects.filter(
        action="privacy.export.downloaded", actor=world.guardian_a, object_id=str(export.pk)
    ).exists()


def test_a_second_tap_while_it_is_made_shows_the_same_request(world, queued_tasks):
    client = _client(world.guardian_a)
    client.post(REQUEST)
    response = client.post(REQUEST, follow=True)
    assert DataExport.objects.filter(person=world.guardian_a).count() == 1
    text = response.content.decode()
    assert "already being made" in text
    export = DataExport.objects.get(person=world.guardian_a)
    assert _download_url(export) not in text
    # Not ready yet: there is nothing to download.
    assert client.get(_download_url(export)).status_code == 404


def test_another_persons_copy_is_not_found(world):
    export, _new = services.export_request(actor=world.guardian_a)
    url = _download_url(export)
    for other in (world.guardian_b, world.restricted_guardian, world.office, world.leadership):
        assert _client(other).get(url).status_code == 404
    assert not AuditEntry.objects.filter(action="privacy.export.downloaded").exists()
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and reverse("account_login") in anonymous["Location"]


def test_after_its_week_the_copy_is_gone(world, time_machine):
    export, _new = services.export_request(actor=world.guardian_a)
    export.refresh_from_db()
    client = _client(world.guardian_a)
    time_machine.move_to(export.expires_at - dt.timedelta(minutes=1))
    assert client.get(_download_url(export)).status_code == 200
    time_machine.move_to(export.expires_at + dt.timedelta(minutes=1))
    gone = client.get(_download_url(export))
    assert gone.status_code == 410
    assert reverse("privacy_home") in gone.content.decode()
    page = client.get(HOME).content.decode()
    assert _download_url(export) not in page and "no longer offered" in page
    # Once the periodic task has deleted the file, still 410.
    assert services.exports_delete_expired() == 1
    assert client.get(_download_url(export)).status_code == 410


def test_staff_use_the_same_page_for_their_own_data(world):
    client = _client(world.contact_teacher_b)
    assert client.get(HOME).status_code == 200
    assert client.post(REQUEST).status_code == 302
    export = DataExport.objects.get(person=world.contact_teacher_b)
    download = client.get(_download_url(export))
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["children"] == [] and data["staff"][0]["school"] == world.school.name


def test_the_page_takes_the_same_queries_however_many_copies(world, queued_tasks):
    many = 4
    client = _client(world.guardian_a)
    services.export_request(actor=world.guardian_a)
    few = counted(client, HOME)
    for _ in range(many):
        DataExport.objects.filter(person=world.guardian_a).update(status=DataExport.Status.FAILED)
        services.export_request(actor=world.guardian_a)
    more = counted(client, HOME)
    assert more.text.count('data-testid="export"') == many + 1
    assert_same_count(few, more)
