"""Fiks IO: a Maskinporten token (JWT grant), the REST send, and the AMQP connection the
answers come on. Header and field names are Fiks IO's (docs/submissions.md)."""

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass
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
    """Our key and certificate (the embedded demo makes a self-signed pair once)."""
    key_file = settings.ARCHIVE_SIGNING_KEY_FILE
    cert_file = settings.ARCHIVE_SIGNING_CERTIFICATE_FILE
    if not (key_file and cert_file):
        if settings.PRODUCTION:
            raise NotConfigured("ARCHIVE_SIGNING_KEY_FILE and _CERTIFICATE_FILE are not set")
        key_path, cert_path = self_signed_files(settings.DATA_DIR, "archive-signing", "kontaktbok")
        key_file, cert_file = str(key_path), str(cert_path)
    return Credentials.from_pem(Path(key_file).read_bytes(), Path(cert_file).read_bytes())


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


_token = _Token()
_token_lock = threading.Lock()


def token() -> str:
    """A Maskinporten access token for ``ks:fiks``, reused until shortly before it ends."""
    if not settings.MASKINPORTEN_TOKEN_URL:
        raise NotConfigured("MASKINPORTEN_TOKEN_URL is not set")
    with _token_lock:
        if _token.value and _token.expires > time.time() + 30:
            return _token.value
        assertion = grant(
            credentials(),
            audience=settings.MASKINPORTEN_AUDIENCE,
            client_id=settings.MASKINPORTEN_CLIENT_ID,
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
        _token.value = answer["access_token"]
        _token.expires = time.time() + int(answer.get("expires_in", 120))
        return _token.value


def forget_token() -> None:
    with _token_lock:
        _token.value, _token.expires = "", 0.0


def send(
    *,
    recipient_account: uuid.UUID | str,
    message_type: str,
    payload: bytes,
    client_message_id: uuid.UUID,
    reply_to: uuid.UUID | None = None,
    ttl_ms: int = 2 * 24 * 3600 * 1000,
) -> uuid.UUID:
    """Send one message with the REST API; returns Fiks IO's ``meldingId``. The same
    ``client_message_id`` goes with every try of one delivery."""
    if not (settings.FIKS_IO_API_URL and settings.FIKS_IO_ACCOUNT_ID):
        raise NotConfigured("FIKS_IO_API_URL and FIKS_IO_ACCOUNT_ID are not set")
    metadata = {
        "avsenderKontoId": settings.FIKS_IO_ACCOUNT_ID,
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
            "Authorization": f"Bearer {token()}",
            "IntegrasjonId": settings.FIKS_IO_INTEGRATION_ID,
            "IntegrasjonPassord": settings.FIKS_IO_INTEGRATION_PASSWORD,
        },
        timeout=TIMEOUT,
    )
    if response.status_code == 401:
        forget_token()
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


def connection_parameters() -> pika.URLParameters:
    """The AMQP connection; on Fiks IO itself (amqps) the password is the integration
    password followed by a Maskinporten token."""
    parameters = pika.URLParameters(settings.FIKS_IO_AMQP_URL)
    if settings.FIKS_IO_AMQP_URL.startswith("amqps://"):
        parameters.credentials = pika.PlainCredentials(
            settings.FIKS_IO_INTEGRATION_ID,
            f"{settings.FIKS_IO_INTEGRATION_PASSWORD} {token()}",
        )
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    parameters.blocked_connection_timeout = 30
    return parameters
