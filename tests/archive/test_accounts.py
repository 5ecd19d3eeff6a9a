"""A municipality's own Fiks IO client: set with ``kontaktbok fiks_account`` (secrets from
files, sealed at rest), used for its sends and for reading its answers; the installation's
settings serve the municipalities without one. Two municipalities sharing one archive each
get their own answers, and one's answers never move the other's delivery."""

import threading
import uuid

import pika
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from kontaktbok.archive import arkivmelding, clients, fiksio, keys, services, standin
from kontaktbok.archive import delivery as worker
from kontaktbok.archive.models import ArchiveAnswer, ArchiveDelivery, FiksClient, FiksMessage
from kontaktbok.core.models import AuditEntry
from tests import factories
from tests.archive.conftest import deliver

State = ArchiveDelivery.State
_KEYS: dict[str, tuple[bytes, bytes]] = {}


def _keys(name: str) -> tuple[bytes, bytes]:
    if name not in _KEYS:
        _KEYS[name] = keys.self_signed(name)
    return _KEYS[name]


def own_client(municipality, name: str = "a", account: uuid.UUID | None = None) -> FiksClient:
    key_pem, cert_pem = _keys(f"Kommune {name}")
    return services.fiks_client_set(
        actor=None,
        municipality=municipality,
        account_id=account or uuid.uuid4(),
        integration_id=f"integrasjon-{name}",
        integration_password=f"passord-{name}",
        maskinporten_client_id=f"klient-{name}",
        signing_key_pem=key_pem,
        certificate_pem=cert_pem,
    )


def test_the_secrets_are_sealed_at_rest_and_never_audited(db):
    municipality = factories.school().municipality
    row = own_client(municipality)
    raw = FiksClient.objects.filter(pk=row.pk).values_list("integration_password", "signing_key")
    [(password, key)] = list(raw)
    assert b"passord-a" not in bytes(password) and b"PRIVATE KEY" not in bytes(key)
    client = clients.client_for(municipality.pk)
    assert client.integration_password == "passord-a" and client.integration_id == "integrasjon-a"
    assert client.account_id == str(row.account_id)
    assert (
        client.credentials().certificate.public_bytes(serialization.Encoding.PEM)
        == (_keys("Kommune a")[1])
    )
    [entry] = AuditEntry.objects.filter(action="archive.fiks_client.created")
    assert "passord" not in str(entry.detail) and "PRIVATE" not in str(entry.detail)
    # A sealed secret is bound to its row: moved to another municipality it does not open.
    other = own_client(factories.school().municipality, "b")
    FiksClient.objects.filter(pk=other.pk).update(integration_password=bytes(password))
    with pytest.raises(Exception):  # noqa: B017
        clients.client_for(other.municipality_id)


def test_a_key_that_is_not_the_certificates_and_a_taken_account_are_refused(db):
    translation.activate("en")  # the messages are read in English here
    first, second = factories.school().municipality, factories.school().municipality
    row = own_client(first)
    with pytest.raises(ValidationError, match="does not belong"):
        services.fiks_client_set(
            actor=None,
            municipality=second,
            account_id=uuid.uuid4(),
            integration_id="i",
            integration_password="p",
            maskinporten_client_id="k",
            signing_key_pem=_keys("Kommune a")[0],
            certificate_pem=_keys("Kommune b")[1],
        )
    with pytest.raises(ValidationError, match="another municipality"):
        own_client(second, "b", account=row.account_id)
    own_client(first, "b")  # set again: replaced, one row
    assert FiksClient.objects.count() == 1
    assert AuditEntry.objects.filter(action="archive.fiks_client.updated").count() == 1


def test_without_its_own_client_a_municipality_uses_the_installations(db, settings):
    settings.FIKS_IO_ACCOUNT_ID = str(uuid.uuid4())
    settings.FIKS_IO_INTEGRATION_ID = "felles"
    plain = factories.school().municipality
    own = factories.school().municipality
    row = own_client(own)
    assert clients.client_for(plain.pk).account_id == settings.FIKS_IO_ACCOUNT_ID
    assert clients.client_for(own.pk).account_id == str(row.account_id)
    accounts = [c.account_id for c in clients.all_clients()]
    assert accounts == [str(row.account_id), settings.FIKS_IO_ACCOUNT_ID]
    settings.FIKS_IO_ACCOUNT_ID = ""
    with pytest.raises(fiksio.NotConfigured):
        clients.client_for(plain.pk)


def test_the_command_reads_the_secrets_from_files(db, tmp_path):
    municipality = factories.school().municipality
    key_pem, cert_pem = _keys("Kommune a")
    (tmp_path / "passord").write_text("hemmeleg\n")
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    account = uuid.uuid4()
    args = [
        "fiks_account",
        "--municipality",
        municipality.org_number,
        "--account",
        str(account),
        "--integration-id",
        "integrasjon",
        "--integration-password-file",
        str(tmp_path / "passord"),
        "--maskinporten-client-id",
        "klient",
        "--key-file",
        str(tmp_path / "key.pem"),
        "--certificate-file",
        str(tmp_path / "cert.pem"),
    ]
    call_command(*args)
    client = clients.client_for(municipality.pk)
    assert client.account_id == str(account) and client.integration_password == "hemmeleg"
    with pytest.raises(CommandError, match="No municipality"):
        call_command(*[a if a != municipality.org_number else "999999999" for a in args])
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(*[a.replace("key.pem", "missing.pem") for a in args])
    # A secret is never an argument: no option takes the password or the key itself.
    with pytest.raises(CommandError):
        call_command(*args, "--integration-password", "hemmeleg")


def test_each_client_has_its_own_maskinporten_token(fiks):
    first = clients.client_for(own_client(factories.school().municipality, "a").municipality_id)
    second = clients.client_for(own_client(factories.school().municipality, "b").municipality_id)
    for name in ("a", "b"):
        fiks.fiksio.clients[f"klient-{name}"] = _keys(f"Kommune {name}")[1]
    one, two = fiksio.token(first), fiksio.token(second)
    assert one != two and fiksio.token(first) == one  # reused until it ends
    fiksio.forget_token(first)
    assert fiksio.token(first) != one and fiksio.token(second) == two


# --- two municipalities, one archive ----------------------------------------------------------


def _consume(client: fiksio.Client, amqp_url: str, seconds: float = 2.0) -> int:
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        return worker.consume(
            client=client,
            stop=stop,
            parameters=pika.URLParameters(amqp_url),
            idle_seconds=0.2,
        )
    finally:
        timer.cancel()


def _wait_for(predicate, fiks, readers, seconds: float = 60.0) -> None:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for client in readers:
            _consume(client, fiks.amqp_url, 0.6)
        if predicate():
            return
    raise AssertionError(f"timed out; {fiks.describe()}")


def test_two_municipalities_with_their_own_accounts_each_get_their_own_answers(fiks, unit):
    # A neighbour files in the same (inter-municipal) archive from its own account.
    school_b = factories.school("Naboskulen")
    unit_b = services.unit_create(
        actor=None,
        municipality=school_b.municipality,
        school=school_b,
        name="Naboskulen",
        fiks_account_id=unit.fiks_account_id,
        archive_certificate=unit.archive_certificate,
    )
    rows = {
        "a": own_client(unit.municipality, "a"),
        "b": own_client(unit_b.municipality, "b"),
    }
    for name, row in rows.items():
        fiks.fiksio.integrations[row.integration_id] = f"passord-{name}"
        fiks.fiksio.clients[row.maskinporten_client_id] = _keys(f"Kommune {name}")[1]
    first, second = deliver(unit), deliver(unit_b)
    for each in (first, second):
        each.refresh_from_db()
        assert each.state == State.SENT, each.failure_reason
    sent = {s["headere"]["klientMeldingId"]: s for s in fiks.fiksio.sent}
    assert sent[str(first.client_message_id)]["avsenderKontoId"] == str(rows["a"].account_id)
    assert sent[str(second.client_message_id)]["avsenderKontoId"] == str(rows["b"].account_id)
    assert FiksMessage.objects.get(delivery=first).account_id == rows["a"].account_id
    readers = [
        clients.client_for(unit.municipality_id),
        clients.client_for(school_b.municipality_id),
    ]
    _wait_for(
        lambda: ArchiveAnswer.objects.filter(delivery__isnull=False).count() == 4, fiks, readers
    )
    for each, row in ((first, rows["a"]), (second, rows["b"])):
        each.refresh_from_db()
        assert each.state == State.ARCHIVED
        assert {a.received_on for a in each.answers.all()} == {row.account_id}
    # The installation's account (the fallback) got nothing.
    assert _consume(fiksio.installation_client(), fiks.amqp_url, 0.6) == 0


def test_an_answer_on_another_municipalitys_account_is_kept_but_never_applied(db, unit):
    school_b = factories.school("Naboskulen")
    row_a, row_b = own_client(unit.municipality, "a"), own_client(school_b.municipality, "b")
    delivery = deliver(unit)
    claimed = worker.claim(delivery.pk)
    message_id = uuid.uuid4()
    services.delivery_mark_sent(
        delivery_id=delivery.pk,
        claimed_at=claimed,
        message_id=message_id,
        account_id=row_a.account_id,
    )
    receipt = standin.receipt_xml(year=2026, sequence=9, post=1, created=True, external_key="k")
    answer = {
        "message_type": arkivmelding.KVITTERING,
        "sender_account": unit.fiks_account_id,  # the right archive, the wrong queue
        "in_reply_to": message_id,
        "client_message_id": delivery.client_message_id,
        "payload": receipt,
    }
    assert (
        services.answer_record(message_id=uuid.uuid4(), received_on=row_b.account_id, **answer)
        is None
    )
    delivery.refresh_from_db()
    assert delivery.state == State.SENT
    assert AuditEntry.objects.filter(action="archive.answer.foreign").count() == 1
    assert ArchiveAnswer.objects.get().delivery is None  # kept for the record
    # The same answer on the municipality's own account moves it on.
    services.answer_record(message_id=uuid.uuid4(), received_on=row_a.account_id, **answer)
    delivery.refresh_from_db()
    assert delivery.state == State.ARCHIVED


def test_an_early_answer_waits_only_for_a_send_from_the_account_it_came_on(db, unit):
    school_b = factories.school("Naboskulen")
    row_a, row_b = own_client(unit.municipality, "a"), own_client(school_b.municipality, "b")
    delivery = deliver(unit)
    message_id = uuid.uuid4()
    services.answer_record(  # came on b's account before the send was recorded
        message_id=uuid.uuid4(),
        message_type=arkivmelding.MOTTATT,
        sender_account=unit.fiks_account_id,
        in_reply_to=message_id,
        client_message_id=None,
        payload=b"",
        received_on=row_b.account_id,
    )
    services.delivery_mark_sent(
        delivery_id=delivery.pk,
        claimed_at=worker.claim(delivery.pk),
        message_id=message_id,
        account_id=row_a.account_id,
    )
    delivery.refresh_from_db()
    assert delivery.state == State.SENT and not delivery.answers.exists()
