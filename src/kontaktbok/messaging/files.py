"""Attachments: the type is found from the content (never only the name), and the bytes are
encrypted at rest with AES-GCM under a key from the settings.

The first bytes are read with puremagic; an office document (a zip) is opened to see its
structure, reading at most a few bounded parts, and an archive whose members declare
absurd sizes (a zip bomb) is refused before anything is decompressed.

A blob is ``b"KB1" + len(key id) + key id + nonce (12) + ciphertext and tag``. The key id
names the key, so a new key (``KONTAKTBOK_FILE_KEY``) can be put in use while the old ones
(``KONTAKTBOK_FILE_KEYS_OLD``) still open what they encrypted.
"""

import hashlib
import os
import struct
import zipfile
from dataclasses import dataclass
from typing import IO

import puremagic
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext_lazy
from puremagic.main import stream_details
from puremagic.scanners import pdf_scanner

MAGIC = b"KB1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
# Allowed file types: content type and the file name endings that may carry it. The old
# binary Office formats (.doc, .xls, .ppt) are not among them: they carry macros unseen.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    ODT: (".odt",),
    ODS: (".ods",),
    ODP: (".odp",),
}
MAX_FILES = 5  # per message
ACCEPT = ",".join(ext for exts in ALLOWED.values() for ext in exts)
# ALLOWED in the users' words, for the form's help and the refusals.
ACCEPTED_TYPES = gettext_lazy(
    "PDF, pictures (JPEG, PNG, GIF, WebP, HEIC) and documents in the formats .docx, .xlsx, "
    ".pptx, .odt, .ods and .odp"
)
# What puremagic names by the first bytes, as the type we store.
BY_SIGNATURE = {
    "application/pdf": "application/pdf",
    "image/png": "image/png",
    "image/jpeg": "image/jpeg",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "image/heic": "image/heic",
    "image/heif": "image/heic",
}
ZIP = "application/zip"
OLE = "application/x-ole-storage"
OOXML_MAIN_PARTS = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
ODF_TYPES = {ODT, ODS, ODP}
ODF_REQUIRED = ("content.xml", "META-INF/manifest.xml")
ODF_MACRO_DIRS = ("basic/", "scripts/")
# HEIF files whose major brand is the generic one puremagic does not know (mif1, msf1)
# are pictures when an HEIC brand is among the compatible ones.
HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}

# Zip bombs: an office document never comes near these.
MAX_MEMBERS = 10_000
MAX_CENTRAL_DIRECTORY = 2 * 1024 * 1024
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 200
RATIO_FROM = 1024 * 1024  # members smaller than this may compress as well as they like
PART_LIMIT = 200_000  # the most read of [Content_Types].xml
EOCD = b"PK\x05\x06"
EOCD_SEARCH = 22 + 65_535  # the end record and the longest comment


def _extension(filename: str) -> str:
    return os.path.splitext(filename.lower())[1]


def _signatures(file: IO[bytes]) -> list[puremagic.PureMagicWithConfidence]:
    """What puremagic finds in the first and last bytes, most confident first."""
    file.seek(0)
    try:
        # Never a file name: puremagic would open a file of that name on this server.
        return puremagic.magic_stream(file)
    except (puremagic.PureError, ValueError):
        return []
    finally:
        file.seek(0)


def _members_fit(file: IO[bytes]) -> bool:
    """The end record's member count and directory size, read before zipfile builds its
    list of members: a small upload must not declare a million of them."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(max(0, size - EOCD_SEARCH))
    tail = file.read()
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        return False
    _disk, _start, _here, total, directory_size, _offset, _comment = struct.unpack(
        "<HHHHIIH", tail[at + 4 : at + 22]
    )
    # 0xFFFF / 0xFFFFFFFF mean a zip64 archive: far beyond any school document.
    return total <= MAX_MEMBERS and directory_size <= MAX_CENTRAL_DIRECTORY


def _sizes_fit(infos: list[zipfile.ZipInfo]) -> bool:
    """No member (nor all together) declares an absurd size or compression ratio."""
    total = 0
    for info in infos:
        total += info.file_size
        ratio_too_high = info.file_size > RATIO_FROM and (
            info.file_size > MAX_RATIO * max(info.compress_size, 1)
        )
        if ratio_too_high or total > MAX_UNCOMPRESSED:
            return False
    return True


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a member, decompressed as a stream (never the whole)."""
    with archive.open(name) as member:
        return member.read(limit)


def _zip_type(file: IO[bytes]) -> str | None:
    """OOXML (``[Content_Types].xml`` and its main part, no macros) or ODF (``mimetype``
    first naming an ODF type, with ``content.xml`` and ``META-INF/manifest.xml``, no
    macros), else None; archives that declare absurd sizes are refused unopened."""
    try:
        if not _members_fit(file):
            return None
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            if not infos or infos[0].header_offset != 0:
                return None  # data in front of the archive: not an office document
            if len(infos) > MAX_MEMBERS or not _sizes_fit(infos):
                return None
            names = [info.filename for info in infos]
            if names and names[0] == "mimetype":
                declared = _read(archive, "mimetype", 100).decode("ascii", "replace").strip()
                lowered = [n.lower() for n in names]
                if (
                    declared in ODF_TYPES
                    and all(part in names for part in ODF_REQUIRED)
                    and not any(n.startswith(ODF_MACRO_DIRS) for n in lowered)
                ):
                    return declared
                return None
            if "[Content_Types].xml" not in names:
                return None
            types = _read(archive, "[Content_Types].xml", PART_LIMIT).lower()
            if b"macroenabled" in types or any(n.lower().endswith(".bin") for n in names):
                return None  # macros (vbaProject.bin): refused
            for part, content_type in OOXML_MAIN_PARTS.items():
                if part in names:
                    return content_type
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, ValueError, EOFError):
        return None
    finally:
        file.seek(0)
    return None


def _generic_heif(file: IO[bytes]) -> bool:
    """An ISO media file with a generic HEIF brand and an HEIC brand among the compatible
    ones (the ``ftyp`` box, at most 64 bytes of it)."""
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    if head[4:8] != b"ftyp" or head[8:12] not in HEIF_GENERIC_BRANDS:
        return False
    box = head[: min(int.from_bytes(head[:4], "big"), len(head))]
    compatible = {box[i : i + 4] for i in range(16, len(box) - 3, 4)}
    return bool(compatible & HEIC_BRANDS)


def _whole_pdf(file: IO[bytes]) -> bool:
    """puremagic's check of a whole PDF: the header first and ``startxref`` at the end."""
    file.seek(0)
    head, foot = stream_details(file)
    return pdf_scanner.main(None, head, foot) is not None


def detect(file: IO[bytes]) -> str | None:
    """The content type of the whole file, if it is one we accept; None for anything else
    (programs, HTML, SVG, old Office files, a zip that only claims a type, ...)."""
    found = _signatures(file)
    if any(m.mime_type == ZIP and m.offset == 0 for m in found):
        return _zip_type(file)  # puremagic cannot see inside: check the structure
    best = found[0].confidence if found else 0
    top = {m.mime_type for m in found if m.confidence == best}
    types = {BY_SIGNATURE[t] for t in top if t in BY_SIGNATURE}
    if types == {"application/pdf"}:
        return "application/pdf" if _whole_pdf(file) else None
    if len(types) == 1:
        return types.pop()
    if not types and _generic_heif(file):
        return "image/heic"
    return None


def is_legacy_office(file: IO[bytes]) -> bool:
    """An OLE compound file: the old binary Office formats (.doc, .xls, .ppt), which may
    carry macros unseen."""
    return any(m.mime_type == OLE for m in _signatures(file))


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
