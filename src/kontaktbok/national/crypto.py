"""The id_token kept for the logout's ``id_token_hint`` holds the person's national
identity number (``pid``): it is kept in the session encrypted, never in clear."""

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_CONTEXT = b"kontaktbok national id_token"


def _key() -> bytes:
    return hashlib.sha256(_CONTEXT + settings.SECRET_KEY.encode()).digest()


def seal(text: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, text.encode(), _CONTEXT)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str) -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], _CONTEXT).decode()
