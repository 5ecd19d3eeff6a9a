"""The formats that leave kontaktbok: arkivmelding against KS's XSDs, the ASiC-E container
and its signature, and the CMS envelope, checked with OpenSSL as an independent reader."""

import base64
import codecs
import datetime as dt
import hashlib
import io
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from kontaktbok.archive import arkivmelding, keys, package, standin

NAME = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "Zs", "P"), include_characters="æøåÆØÅ"
    ),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip())
TITLE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=3000,
).filter(lambda s: s.strip())


@pytest.fixture(scope="module")
def ours() -> package.Credentials:
    return package.Credentials.from_pem(*keys.self_signed("kontaktbok"))


@pytest.fixture(scope="module")
def archive_pair() -> tuple[bytes, bytes]:
    return keys.self_signed("Arkivet")


def entry(**overrides) -> arkivmelding.JournalEntry:
    fields = {
        "title": "Søknad om skyss",
        "sender": arkivmelding.Correspondent(name="Åse Ødegård", person_id="01010112345"),
        "municipality_name": "Sunnfjord kommune",
        "municipality_org_number": "921",
        "unit_name": "Vassenden skule",
        "administrative_unit": "",
        "received_at": dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC),
        "external_key": "4f0e1a94-9a8c-4b5e-9f43-2f7d3b1c2a10",
        "files": [arkivmelding.DocumentFile(1, "H", "Kommentar", "01-kommentar.pdf", "PDF")],
    }
    fields.update(overrides)
    return arkivmelding.JournalEntry(**fields)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=TITLE,
    name=NAME,
    business=st.booleans(),
    attachments=st.lists(NAME, min_size=0, max_size=6),
    case=st.one_of(st.none(), st.tuples(st.integers(1990, 2100), st.integers(1, 999_999))),
    confidential=st.booleans(),
)
def test_every_arkivmelding_validates(title, name, business, attachments, case, confidential):
    files = [arkivmelding.DocumentFile(1, "H", title[:500], "01-kommentar.pdf", "PDF")]
    files += [
        arkivmelding.DocumentFile(n, "V", a, f"{n:02d}-vedlegg.png", "PNG")
        for n, a in enumerate(attachments, start=2)
    ]
    sender = arkivmelding.Correspondent(
        name=name,
        organisation_id="974760673" if business else "",
        person_id="" if business else "01010112345",
    )
    xml = arkivmelding.build(
        entry(
            title=title,
            sender=sender,
            files=files,
            case_year=case[0] if case else None,
            case_sequence=case[1] if case else None,
            screening=("13", "Offl. § 13") if confidential else None,
        )
    )
    arkivmelding.validate(xml, arkivmelding.OPPRETT)
    root = etree.fromstring(xml)
    ns = {"a": arkivmelding.NS, "m": arkivmelding.MDK}
    assert root.findtext("a:registrering/a:tittel", namespaces=ns) == title
    assert root.findtext("a:antallFiler", namespaces=ns) == str(len(files))
    assert root.findtext("a:registrering/a:journalposttype/m:kode", namespaces=ns) == "I"
    assert (root.find("a:registrering/a:skjerming", namespaces=ns) is not None) == confidential
    party = root.find("a:registrering/a:korrespondansepart", namespaces=ns)
    assert party.findtext("m:kode", namespaces={"m": arkivmelding.MDK}) is None  # nested
    assert party.findtext("a:korrespondansepartNavn", namespaces=ns) == name
    assert (party.find("a:organisasjonid", namespaces=ns) is not None) == business
    assert (party.find("a:personid", namespaces=ns) is not None) == (not business)


def test_a_schema_breach_is_refused_before_anything_leaves():
    with pytest.raises(arkivmelding.InvalidMessage):
        arkivmelding.build(entry(title=""))  # tittel has minLength 1


def test_the_validator_accepts_ks_example_and_refuses_its_negative_case():
    examples = Path("/work/shared/standards/fiks-arkiv-v1/examples")
    if not examples.exists():
        pytest.skip("KS examples not on this machine")
    for case, valid in (("NyJournalpostN6", True), ("NySaksmappeFX", False)):
        raw = (examples / case / "arkivmelding.xml").read_bytes()
        for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
            if raw.startswith(bom):
                raw = raw.decode(codec).replace('encoding="utf-16"', 'encoding="utf-8"').encode()
        raw = raw.removeprefix(codecs.BOM_UTF8)
        if valid:
            arkivmelding.validate(raw, arkivmelding.OPPRETT)
        else:
            with pytest.raises(arkivmelding.InvalidMessage):
                arkivmelding.validate(raw, arkivmelding.OPPRETT)


def test_receipt_and_errors_read_back():
    xml = standin.receipt_xml(year=2026, sequence=42, post=3, created=True, external_key="k")
    receipt = arkivmelding.read_receipt(xml)
    assert (receipt.journal_year, receipt.journal_sequence, receipt.journal_post_number) == (
        2026,
        42,
        3,
    )
    assert receipt.created
    error = standin.error_xml(arkivmelding.UGYLDIG, "F1", "tittel manglar")
    arkivmelding.validate(error, arkivmelding.UGYLDIG)
    assert "tittel manglar" in arkivmelding.read_error(error)


FILES = [
    ("arkivmelding.xml", b"<a/>", "application/xml"),
    ("01-kommentar.pdf", b"%PDF-1.7 kommentar", "application/pdf"),
    ("02-bilete.png", b"\x89PNG\r\n\x1a\n", "image/png"),
]


def test_container_layout_digests_and_signature(ours):
    data = package.container(FILES, ours)
    archive = zipfile.ZipFile(io.BytesIO(data))
    first = archive.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert archive.read("mimetype") == b"application/vnd.etsi.asic-e+zip"
    manifest = etree.fromstring(archive.read(package.MANIFEST))
    references = manifest.findall(f"{{{package.ASIC_NS}}}DataObjectReference")
    assert [r.get("URI") for r in references] == [name for name, _d, _t in FILES]
    for reference, (_name, content, _type) in zip(references, FILES, strict=True):
        value = reference.findtext(f"{{{package.DSIG_NS}}}DigestValue")
        assert base64.b64decode(value) == hashlib.sha256(content).digest()
    opened = package.open_container(data)
    assert opened.files == {name: content for name, content, _t in FILES}
    assert opened.signer == ours.certificate


def test_a_changed_file_or_manifest_is_refused(ours):
    data = package.container(FILES, ours)
    source = zipfile.ZipFile(io.BytesIO(data))
    for target, change in (("02-bilete.png", b"other"), (package.MANIFEST, None)):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as copy:
            for info in source.infolist():
                content = source.read(info.filename)
                if info.filename == target:
                    content = (
                        change
                        if change is not None
                        else content.replace(b"02-bilete", b"03-bilete")
                    )
                copy.writestr(info.filename, content, compress_type=info.compress_type)
        with pytest.raises(package.PackageError):
            package.open_container(out.getvalue())


def _openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, check=False)  # noqa: S603, S607


def test_openssl_decrypts_and_verifies_what_we_produce(ours, archive_pair, tmp_path):
    archive_key, archive_cert = archive_pair
    container = package.container(FILES, ours)
    envelope = package.encrypt(container, archive_cert)
    (tmp_path / "env.der").write_bytes(envelope)
    (tmp_path / "key.pem").write_bytes(archive_key)
    (tmp_path / "cert.pem").write_bytes(archive_cert)
    result = _openssl(
        "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "env.der")
    )
    assert b"rsaesOaep" in result.stdout and b"sha256" in result.stdout
    assert b"aes-256-cbc" in result.stdout
    result = _openssl(
        "cms", "-decrypt", "-inform", "DER", "-in", str(tmp_path / "env.der"),
        "-inkey", str(tmp_path / "key.pem"), "-recip", str(tmp_path / "cert.pem"),
        "-out", str(tmp_path / "out.zip"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.zip").read_bytes() == container
    archive = zipfile.ZipFile(io.BytesIO(container))
    [signature] = [n for n in archive.namelist() if n.endswith(".p7s")]
    (tmp_path / "manifest.xml").write_bytes(archive.read(package.MANIFEST))
    (tmp_path / "sig.der").write_bytes(archive.read(signature))
    (tmp_path / "ours.pem").write_bytes(
        ours.certificate.public_bytes(
            __import__("cryptography").hazmat.primitives.serialization.Encoding.PEM
        )
    )
    result = _openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
        "-content", str(tmp_path / "manifest.xml"), "-CAfile", str(tmp_path / "ours.pem"),
        "-purpose", "any", "-out", os.devnull,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (tmp_path / "manifest.xml").write_bytes(archive.read(package.MANIFEST) + b" ")
    result = _openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"),
        "-content", str(tmp_path / "manifest.xml"), "-CAfile", str(tmp_path / "ours.pem"),
        "-purpose", "any", "-out", os.devnull,
    )  # fmt: skip
    assert result.returncode != 0


def test_a_wrong_key_cannot_open_the_envelope(ours, archive_pair, tmp_path):
    envelope = package.encrypt(b"secret", archive_pair[1])
    stranger_key, stranger_cert = keys.self_signed("Stranger")
    with pytest.raises(package.PackageError):
        package.decrypt(envelope, package.Credentials.from_pem(stranger_key, stranger_cert))
    (tmp_path / "env.der").write_bytes(envelope)
    (tmp_path / "key.pem").write_bytes(stranger_key)
    result = _openssl(
        "cms", "-decrypt", "-inform", "DER", "-in", str(tmp_path / "env.der"),
        "-inkey", str(tmp_path / "key.pem"), "-out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode != 0 or (tmp_path / "out").read_bytes() != b"secret"
    assert package.decrypt(envelope, package.Credentials.from_pem(*archive_pair)) == b"secret"


def test_openssl_envelope_for_us_opens_in_python(archive_pair, tmp_path):
    """The other direction: an envelope OpenSSL writes with OAEP opens with our reader."""
    key, cert = archive_pair
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "in").write_bytes(b"hei fra openssl")
    result = _openssl(
        "cms", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER",
        "-in", str(tmp_path / "in"), "-out", str(tmp_path / "env.der"),
        "-recip", str(tmp_path / "cert.pem"),
        "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256",
        "-keyopt", "rsa_mgf1_md:sha256",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    opened = package.decrypt(
        (tmp_path / "env.der").read_bytes(), package.Credentials.from_pem(key, cert)
    )
    assert opened == b"hei fra openssl"
