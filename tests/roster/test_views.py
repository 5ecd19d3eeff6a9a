"""The office's import pages: template, upload, preview with the refused rows, apply."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontaktbok.roster.models import RosterImport
from kontaktbok.schools.models import Pupil
from tests.roster.test_services import base_rows, roster_csv
from tests.schools.test_guardian_contacts import _mfa_client

pytestmark = pytest.mark.django_db


def upload(client, school, data: bytes, name: str = "elevar.csv"):
    url = reverse("roster_home", args=[school.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, data, "text/csv")})


@pytest.mark.parametrize(
    ("language", "header"), [("nn", "førenamn"), ("nb", "fornavn"), ("en", "first name")]
)
def test_the_template_has_headers_in_each_language(world, language, header):
    client = _mfa_client(world.office)
    response = client.get(reverse("roster_template", args=[world.school.pk, language]))
    assert response["Content-Disposition"].endswith(f'kontaktbok-roster-{language}.csv"')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff") and header in text.splitlines()[0].split(";")


def test_the_template_imports_as_it_is(world):
    client = _mfa_client(world.office)
    template = client.get(reverse("roster_template", args=[world.school.pk, "en"])).content
    response = upload(client, world.school, template)
    item = RosterImport.objects.get()
    assert response.status_code == 302 and item.rejected == []
    assert item.counts["pupils_new"] == 1 and item.counts["staff_new"] == 1


def test_upload_preview_apply_and_no_changes_the_second_time(world):
    client = _mfa_client(world.office)
    rows = [*base_rows(), "elev;E7;Tom;Feil;32.13.2016;;5C;;;;;;;;"]
    response = upload(client, world.school, roster_csv(*rows))
    item = RosterImport.objects.get()
    assert response.url == reverse("roster_import", args=[world.school.pk, item.pk])
    page = client.get(response.url).content.decode()
    assert 'data-testid="apply"' in page and 'data-testid="rejected-row"' in page
    assert "32.13.2016" in page  # the bad date, on its line
    assert not Pupil.objects.filter(first_name="Kari").exists()
    applied = client.post(response.url)
    assert applied.status_code == 302
    assert Pupil.objects.filter(first_name="Kari").count() == 1
    client.post(response.url)  # a second tap changes nothing
    assert Pupil.objects.filter(first_name="Kari").count() == 1
    page = client.get(response.url).content.decode()
    assert 'data-testid="applied"' in page and 'data-testid="apply"' not in page
    again = upload(client, world.school, roster_csv(*base_rows()))
    page = client.get(again.url).content.decode()
    assert 'data-testid="no-changes"' in page and 'data-testid="apply"' not in page


def test_a_file_that_is_no_roster_is_explained(world):
    client = _mfa_client(world.office)
    response = upload(client, world.school, b"\x00\x01 not a roster at all")
    page = client.get(response.url).content.decode()
    assert 'data-testid="rejected-row"' in page and 'data-testid="nothing-taken"' in page


def test_another_schools_office_cannot_see_an_import(world):
    item = RosterImport.objects.create(school=world.school, file_name="a.csv", source="csv")
    client = _mfa_client(world.other_leadership)
    url = reverse("roster_import", args=[world.school.pk, item.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
