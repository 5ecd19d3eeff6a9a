"""Attachments: the type is found from the content (never only the name), and the bytes are
encrypted at rest with AES-GCM under a key from the settings.

A blob is ``b"KB1" + len(key id) + key id + nonce (12) + ciphertext and tag``. The key id
names the key, so a new key (``KONTAKTBOK_FILE_KEY``) can be put in use while the old ones
(``KONTAKTBOK_FILE_KEYS_OLD``) still open what they encrypted.
"""

import hashlib
import os
import zipfile
from dataclasses import dataclass
from typing import IO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

MAGIC = b"KB1"
# Allowed file types: content type and the file name endings that may carry it.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/msword": (".doc",),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.ms-powerpoint": (".ppt",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
}
ACCEPT = ",".join(ext for exts in ALLOWED.values() for ext in exts)
OOXML_MAIN_PARTS = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
OLE_BY_EXTENSION = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}


def _extension(filename: str) -> str:
    return os.path.splitext(filename.lower())[1]


def _zip_type(file: IO[bytes]) -> str | None:
    """OOXML (with its main part, no macros) or ODF (``mimetype`` first), else None."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in ALLOWED else None
            if "[Content_Types].xml" not in names:
                return None
            types = archive.read("[Content_Types].xml")[:200_000].lower()
            if b"macroenabled" in types or any(n.lower().endswith(".bin") for n in names):
                return None  # macros (vbaProject.bin): refused
            for part, content_type in OOXML_MAIN_PARTS.items():
                if part in names:
                    return content_type
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    return None


def detect(file: IO[bytes], filename: str) -> str | None:
    """The content type found in the file's first bytes (and, for office documents, its
    structure), if it is one we accept; None for anything else (programs, HTML, SVG, ...)."""
    file.seek(0)
    head = file.read(64)
    found: str | None = None
    if head.startswith(b"%PDF-"):
        found = "application/pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = "image/png"
    elif head.startswith(b"\xff\xd8\xff"):
        found = "image/jpeg"
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        found = "image/gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        found = "image/webp"
    elif head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        found = "image/heic"
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        found = OLE_BY_EXTENSION.get(_extension(filename))
    elif head.startswith(b"PK\x03\x04"):
        found = _zip_type(file)
    file.seek(0)
    return found


def name_fits(content_type: str, filename: str) -> bool:
    """The file name ends as files of this type do."""
    return _extension(filename) in ALLOWED.get(content_type, ())


def safe_filename(filename: str) -> str:
    """The last part of the name, without control or path characters, at most 200 long."""
    name = os.path.basename(filename.replace("\\", "/"))
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"/\\|?*')
    return name.strip(" .")[-200:] or "vedlegg"


# --- encryption at rest -------------------------------------------------------------------


@dataclass(frozen=True)
class FileKey:
    key_id: bytes
    key: bytes


def _derive(secret: str) -> FileKey:
    key = hashlib.sha256(b"kontaktbok file key\x00" + secret.encode()).digest()
    return FileKey(key_id=hashlib.sha256(key).hexdigest()[:16].encode(), key=key)


def current_key() -> FileKey:
    return _derive(settings.FILE_KEY)


def _keys() -> dict[bytes, bytes]:
    keys = [_derive(s) for s in getattr(settings, "FILE_KEYS_OLD", [])]
    keys.append(current_key())
    return {k.key_id: k.key for k in keys}


def _aad(name: str) -> bytes:
    return b"kontaktbok attachment\x00" + name.encode()


def encrypt(data: bytes, *, name: str) -> bytes:
    """Encrypt with the current key; ``name`` (the attachment's uuid) binds the blob to its
    row, so that blobs cannot be swapped between attachments."""
    key = current_key()
    nonce = os.urandom(12)
    sealed = AESGCM(key.key).encrypt(nonce, data, _aad(name))
    return MAGIC + bytes([len(key.key_id)]) + key.key_id + nonce + sealed


class UnknownKeyError(ValueError):
    pass


def decrypt(blob: bytes, *, name: str) -> bytes:
    blob = bytes(blob)
    if not blob.startswith(MAGIC):
        raise ValueError("not an encrypted attachment")
    length = blob[3]
    key_id = blob[4 : 4 + length]
    nonce = blob[4 + length : 16 + length]
    key = _keys().get(key_id)
    if key is None:
        raise UnknownKeyError(f"no key {key_id.decode(errors='replace')} for this attachment")
    return AESGCM(key).decrypt(nonce, blob[16 + length :], _aad(name))
