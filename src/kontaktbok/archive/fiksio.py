"""Fiks IO: a Maskinporten token (JWT grant), the REST send, and the AMQP connection the
answers come on. Header and field names are Fiks IO's (docs/submissions.md)."""

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pika
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

from kontaktbok.archive.keys import self_signed_files
from kontaktbok.archive.package import Credentials

SEND_PATH = "/fiks-io/api/v1/send"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TIMEOUT = 30


class NotConfigured(RuntimeError):
    """Fiks IO is not set up: deliveries stay queued."""


class PermanentError(RuntimeError):
    """Fiks IO refused the message; sending it again will not help."""


@cache
def credentials() -> Credentials:
    """The installation's key and certificate (the embedded demo makes a self-signed pair
    once), for a municipality without a Fiks IO client of its own."""
    key_file = settings.ARCHIVE_SIGNING_KEY_FILE
    cert_file = settings.ARCHIVE_SIGNING_CERTIFICATE_FILE
    if not (key_file and cert_file):
        if settings.PRODUCTION:
            raise NotConfigured("ARCHIVE_SIGNING_KEY_FILE and _CERTIFICATE_FILE are not set")
        key_path, cert_path = self_signed_files(settings.DATA_DIR, "archive-signing", "kontaktbok")
        key_file, cert_file = str(key_path), str(cert_path)
    return Credentials.from_pem(Path(key_file).read_bytes(), Path(cert_file).read_bytes())


@dataclass(frozen=True)
class Client:
    """One Fiks IO client: the account we send from and read answers on, its integration,
    its Maskinporten client and the certificate that signs and opens the messages."""

    account_id: str
    integration_id: str
    integration_password: str = field(repr=False)
    maskinporten_client_id: str
    credentials: Callable[[], Credentials] = field(repr=False, compare=False)


def installation_client() -> Client | None:
    """The installation-wide settings: the fallback for a municipality without its own."""
    if not settings.FIKS_IO_ACCOUNT_ID:
        return None
    return Client(
        account_id=str(settings.FIKS_IO_ACCOUNT_ID),
        integration_id=settings.FIKS_IO_INTEGRATION_ID,
        integration_password=settings.FIKS_IO_INTEGRATION_PASSWORD,
        maskinporten_client_id=settings.MASKINPORTEN_CLIENT_ID,
        credentials=credentials,
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def grant(own: Credentials, *, audience: str, client_id: str, scope: str) -> str:
    """A Maskinporten JWT grant (RS256, our certificate in ``x5c``)."""
    now = int(time.time())
    header = {
        "alg": "RS256",
        "x5c": [
            base64.b64encode(own.certificate.public_bytes(serialization.Encoding.DER)).decode()
        ],
    }
    claims = {
        "aud": audience,
        "iss": client_id,
        "scope": scope,
        "iat": now,
        "exp": now + 110,
        "jti": str(uuid.uuid4()),
    }
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = own.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


@dataclass
class _Token:
    value: str = ""
    expires: float = 0.0


# One token per Maskinporten client and account: a municipality's token is never another's.
_tokens: dict[tuple[str, str], _Token] = {}
_token_lock = threading.Lock()


def _token_key(client: Client) -> tuple[str, str]:
    return client.maskinporten_client_id, client.account_id


def token(client: Client | None = None) -> str:
    """A Maskinporten access token for ``ks:fiks`` for the client (the installation's if
    none is given), reused until shortly before it ends."""
    client = client or installation_client()
    if client is None:
        raise NotConfigured("FIKS_IO_ACCOUNT_ID is not set")
    if not settings.MASKINPORTEN_TOKEN_URL:
        raise NotConfigured("MASKINPORTEN_TOKEN_URL is not set")
    with _token_lock:
        cached = _tokens.setdefault(_token_key(client), _Token())
        if cached.value and cached.expires > time.time() + 30:
            return cached.value
        assertion = grant(
            client.credentials(),
            audience=settings.MASKINPORTEN_AUDIENCE,
            client_id=client.maskinporten_client_id,
            scope=settings.MASKINPORTEN_SCOPE,
        )
        response = requests.post(
            settings.MASKINPORTEN_TOKEN_URL,
            data={"grant_type": JWT_GRANT, "assertion": assertion},
            timeout=TIMEOUT,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"Maskinporten: {response.status_code} {response.text[:200]}")
        answer = response.json()
        cached.value = answer["access_token"]
        cached.expires = time.time() + int(answer.get("expires_in", 120))
        return cached.value


def forget_token(client: Client | None = None) -> None:
    """Forget the client's token (every client's when none is given)."""
    with _token_lock:
        if client is None:
            _tokens.clear()
        else:
            _tokens.pop(_token_key(client), None)


def send(
    *,
    client: Client,
    recipient_account: uuid.UUID | str,
    message_type: str,
    payload: bytes,
    client_message_id: uuid.UUID,
    reply_to: uuid.UUID | None = None,
    ttl_ms: int = 2 * 24 * 3600 * 1000,
) -> uuid.UUID:
    """Send one message from the client's account with the REST API; returns Fiks IO's
    ``meldingId``. The same ``client_message_id`` goes with every try of one delivery."""
    if not settings.FIKS_IO_API_URL:
        raise NotConfigured("FIKS_IO_API_URL is not set")
    metadata = {
        "avsenderKontoId": client.account_id,
        "mottakerKontoId": str(recipient_account),
        "meldingType": message_type,
        "svarPaMelding": str(reply_to) if reply_to else None,
        "ttl": ttl_ms,
        "headere": {"klientMeldingId": str(client_message_id)},
    }
    parts: dict[str, Any] = {
        "metadata": (None, json.dumps(metadata), "application/json"),
        "data": ("melding.zip.enc", payload, "application/octet-stream"),
    }
    response = requests.post(
        settings.FIKS_IO_API_URL.rstrip("/") + SEND_PATH,
        files=parts,
        headers={
            "Authorization": f"Bearer {token(client)}",
            "IntegrasjonId": client.integration_id,
            "IntegrasjonPassord": client.integration_password,
        },
        timeout=TIMEOUT,
    )
    if response.status_code == 401:
        forget_token(client)
        raise RuntimeError("Fiks IO: 401, a new token next time")
    if 400 <= response.status_code < 500 and response.status_code != 429:
        raise PermanentError(
            f"Fiks IO refused the message: {response.status_code} {response.text[:300]}"
        )
    if response.status_code >= 300:
        raise RuntimeError(f"Fiks IO: {response.status_code}")
    return uuid.UUID(response.json()["meldingId"])


def account_queue(account: uuid.UUID | str) -> str:
    return f"fiksio.konto.{account}"


def connection_parameters(client: Client) -> pika.URLParameters:
    """The client's AMQP connection; on Fiks IO itself (amqps) the user is the integration
    id and the password the integration password followed by a Maskinporten token."""
    parameters = pika.URLParameters(settings.FIKS_IO_AMQP_URL)
    if settings.FIKS_IO_AMQP_URL.startswith("amqps://"):
        parameters.credentials = pika.PlainCredentials(
            client.integration_id,
            f"{client.integration_password} {token(client)}",
        )
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    parameters.blocked_connection_timeout = 30
    return parameters
