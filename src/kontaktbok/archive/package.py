"""The Fiks IO payload: an ASiC-E container signed with our certificate (detached CMS over
the manifest), then encrypted for the recipient's certificate as CMS EnvelopedData with
AES-256-CBC and RSAES-OAEP (SHA-256, MGF1-SHA-256), KS's profile (ks-no/kryptering).

``cryptography`` cannot write or read OAEP envelopes, so the ASN.1 is built with asn1crypto
and the primitives come from ``cryptography``."""

import base64
import hashlib
import io
import os
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7
from lxml import etree

MIMETYPE = b"application/vnd.etsi.asic-e+zip"
MANIFEST = "META-INF/asicmanifest.xml"
ASIC_NS = "http://uri.etsi.org/02918/v1.2.1#"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
SHA256_URI = "http://www.w3.org/2001/04/xmlenc#sha256"


class PackageError(ValueError):
    """The container, its signature or its encryption does not check out."""


@dataclass(frozen=True)
class Credentials:
    """A private key and its certificate (ours, or in the stand-in the archive's)."""

    key: RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def from_pem(cls, key_pem: bytes, certificate_pem: bytes) -> "Credentials":
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, RSAPrivateKey):
            raise PackageError("the key must be an RSA key")
        return cls(key=key, certificate=x509.load_pem_x509_certificate(certificate_pem))


def _oaep() -> asym_padding.OAEP:
    return asym_padding.OAEP(
        mgf=asym_padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    )


# --- encryption ---------------------------------------------------------------------------


def encrypt(data: bytes, certificate_pem: bytes) -> bytes:
    """CMS EnvelopedData (DER) that only the holder of the certificate's key can open."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    public_key = certificate.public_key()
    if not isinstance(public_key, RSAPublicKey):
        raise PackageError("the recipient's certificate must have an RSA key")
    content_key = os.urandom(32)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(content_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    recipient = cms.KeyTransRecipientInfo(
        {
            "version": "v0",
            "rid": cms.RecipientIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": parsed.issuer, "serial_number": parsed.serial_number}
                    )
                }
            ),
            "key_encryption_algorithm": cms.KeyEncryptionAlgorithm(
                {
                    "algorithm": "rsaes_oaep",
                    "parameters": algos.RSAESOAEPParams(
                        {
                            "hash_algorithm": {"algorithm": "sha256"},
                            "mask_gen_algorithm": {
                                "algorithm": "mgf1",
                                "parameters": {"algorithm": "sha256"},
                            },
                        }
                    ),
                }
            ),
            "encrypted_key": public_key.encrypt(content_key, _oaep()),
        }
    )
    enveloped = cms.EnvelopedData(
        {
            "version": "v0",
            "recipient_infos": [cms.RecipientInfo({"ktri": recipient})],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": "aes256_cbc", "parameters": iv},
                "encrypted_content": ciphertext,
            },
        }
    )
    return bytes(cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump())


def decrypt(blob: bytes, credentials: Credentials) -> bytes:
    """Open an envelope made for ``credentials``; ``PackageError`` for any other."""
    try:
        info = cms.ContentInfo.load(blob)
        if info["content_type"].native != "enveloped_data":
            raise PackageError("not CMS EnvelopedData")
        enveloped = info["content"]
        content_key = None
        for recipient in enveloped["recipient_infos"]:
            ktri = recipient.chosen
            if not isinstance(ktri, cms.KeyTransRecipientInfo):
                continue
            if ktri["key_encryption_algorithm"]["algorithm"].native != "rsaes_oaep":
                raise PackageError("key transport is not RSAES-OAEP")
            try:
                content_key = credentials.key.decrypt(ktri["encrypted_key"].native, _oaep())
                break
            except ValueError:
                continue
        if content_key is None:
            raise PackageError("the envelope is not for this key")
        content = enveloped["encrypted_content_info"]
        algorithm = content["content_encryption_algorithm"]
        if algorithm["algorithm"].native != "aes256_cbc":
            raise PackageError("content is not AES-256-CBC")
        decryptor = Cipher(
            algorithms.AES(content_key), modes.CBC(algorithm["parameters"].native)
        ).decryptor()
        padded = decryptor.update(content["encrypted_content"].native) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return bytes(unpadder.update(padded) + unpadder.finalize())
    except PackageError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise PackageError(f"cannot open the envelope: {exc}") from exc


# --- signature ----------------------------------------------------------------------------


def sign(data: bytes, credentials: Credentials) -> bytes:
    """A detached CMS SignedData (DER, SHA256withRSA) over ``data``."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(credentials.certificate, credentials.key, hashes.SHA256())
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )


def verify(signature: bytes, data: bytes) -> x509.Certificate:
    """Check a detached CMS signature over ``data``; returns the signer's certificate."""
    try:
        signed = cms.ContentInfo.load(signature)["content"]
        [signer] = list(signed["signer_infos"])
        certificates = [c.chosen for c in signed["certificates"]]
        sid = signer["sid"].chosen
        signer_cert = next(
            c
            for c in certificates
            if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native
        )
        attributes = signer["signed_attrs"]
        digest = next(
            a["values"][0].native for a in attributes if a["type"].native == "message_digest"
        )
        if digest != hashlib.sha256(data).digest():
            raise PackageError("the signed digest does not match the manifest")
        certificate = x509.load_der_x509_certificate(signer_cert.dump())
        public_key = certificate.public_key()
        if not isinstance(public_key, RSAPublicKey):
            raise PackageError("the signer's key is not RSA")
        # The signature covers the signed attributes encoded as a SET (RFC 5652 §5.4).
        to_check = attributes.untag().dump(force=True)
        public_key.verify(
            signer["signature"].native, to_check, asym_padding.PKCS1v15(), hashes.SHA256()
        )
        return certificate
    except PackageError:
        raise
    except (InvalidSignature, ValueError, KeyError, StopIteration, TypeError) as exc:
        raise PackageError(f"the signature does not check out: {exc!r}") from exc


# --- ASiC-E -------------------------------------------------------------------------------


def _manifest(files: Sequence[tuple[str, bytes, str]], signature_name: str) -> bytes:
    root = etree.Element(f"{{{ASIC_NS}}}ASiCManifest", nsmap={None: ASIC_NS, "ds": DSIG_NS})
    etree.SubElement(
        root,
        f"{{{ASIC_NS}}}SigReference",
        URI=signature_name,
        MimeType="application/x-pkcs7-signature",
    )
    for name, data, content_type in files:
        reference = etree.SubElement(
            root, f"{{{ASIC_NS}}}DataObjectReference", URI=name, MimeType=content_type
        )
        etree.SubElement(reference, f"{{{DSIG_NS}}}DigestMethod", Algorithm=SHA256_URI)
        value = etree.SubElement(reference, f"{{{DSIG_NS}}}DigestValue")
        value.text = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def container(files: Sequence[tuple[str, bytes, str]], credentials: Credentials) -> bytes:
    """An ASiC-E zip of ``(name, data, content type)``: ``mimetype`` first and stored, the
    files, the manifest with their SHA-256 digests, and our signature over the manifest."""
    names = [name for name, _data, _type in files]
    if len(set(names)) != len(names) or any(
        n.startswith("META-INF/") or n == "mimetype" for n in names
    ):
        raise PackageError("file names in a container must be unique and not reserved")
    signature_name = f"META-INF/signature-{uuid.uuid4()}.p7s"
    manifest = _manifest(files, signature_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for name, data, _type in files:
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            signature_name, sign(manifest, credentials), compress_type=zipfile.ZIP_DEFLATED
        )
    return buffer.getvalue()


@dataclass(frozen=True)
class Opened:
    files: dict[str, bytes]
    signer: x509.Certificate


def open_container(data: bytes) -> Opened:
    """Read and check an ASiC-E container: layout, every file's digest in the manifest, no
    file outside it, and the signature over the manifest."""
    try:
        return _open_container(data)
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError) as exc:
        if isinstance(exc, PackageError):
            raise
        raise PackageError(f"the container does not check out: {exc}") from exc


def _open_container(data: bytes) -> Opened:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise PackageError("not a zip container") from exc
    if not entries or entries[0].filename != "mimetype":
        raise PackageError("'mimetype' is not the first entry")
    if entries[0].compress_type != zipfile.ZIP_STORED or archive.read("mimetype") != MIMETYPE:
        raise PackageError("'mimetype' is wrong or compressed")
    try:
        manifest = archive.read(MANIFEST)
    except KeyError as exc:
        raise PackageError("no manifest") from exc
    root = etree.fromstring(manifest, parser=etree.XMLParser(resolve_entities=False))
    reference = root.find(f"{{{ASIC_NS}}}SigReference")
    if reference is None:
        raise PackageError("the manifest names no signature")
    signer = verify(archive.read(reference.get("URI", "")), manifest)
    files: dict[str, bytes] = {}
    for item in root.findall(f"{{{ASIC_NS}}}DataObjectReference"):
        name = item.get("URI", "")
        content = archive.read(name)
        value = item.findtext(f"{{{DSIG_NS}}}DigestValue") or ""
        if base64.b64decode(value) != hashlib.sha256(content).digest():
            raise PackageError(f"the digest of {name} does not match")
        files[name] = content
    listed = {"mimetype", MANIFEST, reference.get("URI", ""), *files}
    extra = [e.filename for e in entries if e.filename not in listed]
    if extra:
        raise PackageError(f"files outside the manifest: {extra}")
    return Opened(files=files, signer=signer)
