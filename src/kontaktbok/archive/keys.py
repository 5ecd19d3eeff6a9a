"""Keys and certificates: ours from settings, and self-signed ones for the embedded demo
and the tests (a municipality uses its virksomhetssertifikat instead)."""

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kontaktbok.core.files import create_once


def self_signed(common_name: str, organisation_number: str = "") -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed certificate for it, as PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, organisation_number))
    name = x509.Name(attributes)
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def self_signed_files(directory: Path, name: str, common_name: str) -> tuple[Path, Path]:
    """``<name>.key`` and ``<name>.crt`` in ``directory``, made once (demo and stand-ins)."""
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    if not (key_path.exists() and cert_path.exists()):
        key_pem, cert_pem = self_signed(common_name)
        # Both files come from one pair: write the certificate only with its own key.
        key_path.unlink(missing_ok=True)
        cert_path.unlink(missing_ok=True)
        create_once(key_path, key_pem)
        create_once(cert_path, cert_pem)
    return key_path, cert_path
