"""The VAPID key pair for web push: generated on first run and kept (mode 600)."""

import base64
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from kontaktbok.core.files import create_once


def private_key_path() -> str:
    path = Path(settings.VAPID_PRIVATE_KEY_FILE)
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_once(path, pem)
    return str(path)


@cache
def _public_key_for(path: str) -> str:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_key() -> str:
    """The application server key the browser subscribes with (base64url, uncompressed)."""
    return _public_key_for(private_key_path())
