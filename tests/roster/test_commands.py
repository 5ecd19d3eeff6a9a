"""``kontaktbok import_roster``: the same import for a nightly job, with a dry run."""

import io

import pytest
from django.core.management import CommandError, call_command

from kontaktbok.core.models import AuditEntry
from kontaktbok.schools.models import Pupil
from tests.roster.test_services import base_rows, roster_csv

pytestmark = pytest.mark.django_db


def run(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("import_roster", *args, stdout=out, **options)
    return out.getvalue()


def test_a_dry_run_writes_nothing_then_the_import_and_a_second_changes_nothing(world, tmp_path):
    path = tmp_path / "elevar.csv"
    path.write_bytes(roster_csv(*base_rows(), "elev;E7;Tom;Feil;32.13.2016;;5C;;;;;;;;"))
    dry = run(str(path), school=world.school.org_number, dry_run=True)
    assert "Would change" in dry and "pupils_new 2" in dry
    assert "elevar.csv" not in dry and "CSV:10:" in dry  # the refused row, with its line
    assert not Pupil.objects.filter(first_name="Kari").exists()
    done = run(str(path), school=str(world.school.pk))
    assert "Changed:" in done and Pupil.objects.filter(first_name="Kari").exists()
    assert AuditEntry.objects.filter(action="roster.import.applied", actor=None).count() == 1
    assert "no changes" in run(str(path), school=world.school.org_number)


def test_an_unknown_school_or_file_is_a_clear_error(world, tmp_path):
    with pytest.raises(CommandError, match="No school"):
        run(str(tmp_path), school="999999999")
    with pytest.raises(CommandError, match="does not exist"):
        run(str(tmp_path / "none.csv"), school=world.school.org_number)
