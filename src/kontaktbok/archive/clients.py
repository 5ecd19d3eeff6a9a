"""Which Fiks IO client serves a municipality: its own (``FiksClient``, set with
``kontaktbok fiks_account``), else the installation's settings."""

import uuid
from functools import partial

from django.conf import settings

from kontaktbok.archive import fiksio
from kontaktbok.archive.models import FiksClient
from kontaktbok.archive.package import Credentials
from kontaktbok.messaging import files as sealed


def secret_name(row: FiksClient, what: str) -> str:
    """Binds a sealed secret to its municipality's row: blobs cannot be swapped."""
    return f"fiks-client:{row.municipality_id}:{what}"


def _credentials(row: FiksClient) -> Credentials:
    key = sealed.decrypt(bytes(row.signing_key), name=secret_name(row, "signing_key"))
    return Credentials.from_pem(key, row.certificate.encode())


def _client(row: FiksClient) -> fiksio.Client:
    password = sealed.decrypt(
        bytes(row.integration_password), name=secret_name(row, "integration_password")
    )
    return fiksio.Client(
        account_id=str(row.account_id),
        integration_id=row.integration_id,
        integration_password=password.decode(),
        maskinporten_client_id=row.maskinporten_client_id,
        credentials=partial(_credentials, row),
    )


def client_for(municipality_id: int) -> fiksio.Client:
    """The municipality's own client, else the installation's (``NotConfigured`` if none)."""
    row = FiksClient.objects.filter(municipality_id=municipality_id).first()
    if row is not None:
        return _client(row)
    fallback = fiksio.installation_client()
    if fallback is None:
        raise fiksio.NotConfigured("no Fiks IO account for this municipality")
    return fallback


def all_clients() -> list[fiksio.Client]:
    """Every account whose queue has answers for us: each municipality's own, and the
    installation's when it is set (it serves the municipalities without their own)."""
    found = [_client(row) for row in FiksClient.objects.order_by("pk")]
    fallback = fiksio.installation_client()
    if fallback is not None and fallback.account_id not in {c.account_id for c in found}:
        found.append(fallback)
    return found


def account_of(municipality_id: int) -> uuid.UUID | None:
    """The account that serves the municipality now (its own, else the installation's)."""
    own = FiksClient.objects.filter(municipality_id=municipality_id)
    account = own.values_list("account_id", flat=True).first()
    if account is None and settings.FIKS_IO_ACCOUNT_ID:
        return uuid.UUID(str(settings.FIKS_IO_ACCOUNT_ID))
    return account
