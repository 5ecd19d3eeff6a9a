"""Relay logs in a person's copy: the logs they take part in and may read, as the log shows
them, with the closed log's PDF and the entries' files; nothing of a log they are not in;
reading for the copy is audited as a read of the log."""

import json

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kontaktbok.core.models import AuditEntry
from kontaktbok.privacy.build import SCHEMA_PATH
from kontaktbok.privacy.collect import collect
from kontaktbok.relaylog import closing, services
from tests.relaylog.helpers import PDF, consented, with_nurse

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(world):
    """Aksel's log (guardian A) with an entry and its file, closed; one of family B."""
    own = consented(world)
    with_nurse(world, own)
    services.entry_add(
        actor=world.guardian_a,
        log_id=own.pk,
        body="Møte med helsestasjonen",
        attachment=SimpleUploadedFile("referat.pdf", PDF, content_type="application/pdf"),
    )
    closing.log_close(actor=world.guardian_a, log_id=own.pk, reason="guardians")
    other = consented(world, world.child_b)
    services.entry_add(actor=world.guardian_b, log_id=other.pk, body="Berre for familie B")
    return own, other


def test_a_guardian_gets_the_log_of_their_child_with_its_files(world, logs):
    own, _other = logs
    collected = collect(world.guardian_a, language="nn")
    [log] = collected.data["relay_logs"]
    assert log["id"] == own.pk and log["child"] == own.pupil.full_name
    assert log["my_part"] == "guardian" and log["state"] == "closed"
    assert [e["text"] for e in log["entries"]] == ["Møte med helsestasjonen"]
    assert {p["service"] for p in log["participants"]} >= {"Helsestasjon"}
    paths = {f.path: f.content for f in collected.files}
    assert paths[log["entries"][0]["attachment"]] == PDF
    assert paths[log["document"]].startswith(b"%PDF")
    assert "Berre for familie B" not in json.dumps(collected.data, ensure_ascii=False)
    reads = AuditEntry.objects.filter(actor=world.guardian_a, action__startswith="relaylog.")
    assert {"relaylog.log.read", "relaylog.entry.read", "relaylog.attachment.read"} <= set(
        reads.values_list("action", flat=True)
    )
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(collected.data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_nobody_gets_a_log_they_do_not_take_part_in(world, logs):
    own, other = logs
    for person in (world.contact_teacher_a, world.restricted_guardian, world.guardian_a):
        data = collect(person, language="nn").data
        assert other.pk not in [log["id"] for log in data["relay_logs"]]
        assert "Berre for familie B" not in json.dumps(data, ensure_ascii=False)
    holder = collect(world.leadership, language="nn").data  # the holder takes part in both
    assert {log["id"] for log in holder["relay_logs"]} == {own.pk, other.pk}
