"""The Fiks Arkiv V1 messages we write and read: ``arkivmelding.xml`` for an incoming
journal entry (journalposttype I), validated against KS's schemas before it leaves, and the
archive's receipt (``arkivmelding-kvittering.xml``) and error messages."""

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xmlschema
from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
NS = "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/arkivmelding/opprett/v1"
MDK = "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/metadatakatalog/v1"
KVITTERING_NS = "https://ks-no.github.io/standarder/fiks-protokoll/fiks-arkiv/arkivmelding/opprett/kvittering/v1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SYSTEM = "kontaktbok"

# Message types (xsd/meldingstyper.json; the ids there win over other spellings).
OPPRETT = "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett"
MOTTATT = "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett.mottatt"
KVITTERING = "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett.kvittering"
UGYLDIG = "no.ks.fiks.arkiv.v1.feilmelding.ugyldigforespoersel"
SERVERFEIL = "no.ks.fiks.arkiv.v1.feilmelding.serverfeil"
IKKEFUNNET = "no.ks.fiks.arkiv.v1.feilmelding.ikkefunnet"
# Fiks IO's own answer after three deliveries without ack (both spellings are in use).
FIKSIO_SERVERFEIL = ("no.ks.fiks.kvittering.serverfeil.v1", "no.ks.fiks.io.feilmelding.serverfeil")
ERRORS = (UGYLDIG, SERVERFEIL, IKKEFUNNET, *FIKSIO_SERVERFEIL)


class InvalidMessage(ValueError):
    """The XML does not follow KS's schema; nothing is sent."""


@dataclass(frozen=True)
class Correspondent:
    """The sender (avsender, EA): a person by identity number or a business by
    organisation number."""

    name: str
    person_id: str = ""
    organisation_id: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DocumentFile:
    number: int
    role: str  # "H" main document, "V" attachment
    title: str
    filename: str
    archive_format: str  # PDF, JPEG, PNG, DOCX, ODT


@dataclass(frozen=True)
class JournalEntry:
    """What ``arkivmelding.xml`` says about an incoming document."""

    title: str
    sender: Correspondent
    municipality_name: str
    municipality_org_number: str
    unit_name: str
    administrative_unit: str
    received_at: dt.datetime
    external_key: str
    files: Sequence[DocumentFile]
    case_year: int | None = None
    case_sequence: int | None = None
    screening: tuple[str, str] | None = None  # (tilgangsrestriksjon code, skjermingshjemmel)


def _el(parent: etree._Element, name: str, text: str | None = None, ns: str = NS) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        child.text = text
    return child


def _code(parent: etree._Element, name: str, code: str) -> etree._Element:
    element = _el(parent, name)
    _el(element, "kode", code, ns=MDK)
    return element


def build(entry: JournalEntry) -> bytes:
    """``arkivmelding.xml`` for an incoming journal entry, validated; ``InvalidMessage`` if
    the schema refuses it."""
    root = etree.Element(f"{{{NS}}}arkivmelding", nsmap={None: NS, "xsi": XSI, "mdk": MDK})
    _el(root, "system", SYSTEM)
    _el(root, "antallFiler", str(len(entry.files)))
    journalpost = _el(root, "registrering")
    journalpost.set(f"{{{XSI}}}type", "journalpost")
    _el(journalpost, "opprettetAv", SYSTEM)
    if entry.case_year is not None and entry.case_sequence is not None:
        parent = _el(journalpost, "referanseForelderMappe")
        number = _el(parent, "saksnummer", ns=MDK)
        _el(number, "saksaar", str(entry.case_year), ns=MDK)
        _el(number, "sakssekvensnummer", str(entry.case_sequence), ns=MDK)
    if entry.screening:
        skjerming = _el(journalpost, "skjerming")
        _el(_el(skjerming, "tilgangsrestriksjon"), "kode", entry.screening[0], ns=MDK)
        _el(skjerming, "skjermingshjemmel", entry.screening[1])
    for item in entry.files:
        description = _el(journalpost, "dokumentbeskrivelse")
        _code(description, "dokumentstatus", "F")
        _el(description, "tittel", item.title)
        _code(description, "tilknyttetRegistreringSom", item.role)
        _el(description, "dokumentnummer", str(item.number))
        document = _el(description, "dokumentobjekt")
        _el(document, "versjonsnummer", "1")
        _code(document, "variantformat", "P")
        _code(document, "format", item.archive_format)
        _el(document, "filnavn", item.filename)
        _el(document, "referanseDokumentfil", item.filename)
    _el(journalpost, "tittel", entry.title)
    sender = _el(journalpost, "korrespondansepart")
    _code(sender, "korrespondanseparttype", "EA")
    _el(sender, "korrespondansepartNavn", entry.sender.name)
    if entry.sender.organisation_id:
        _el(sender, "organisasjonid", entry.sender.organisation_id)
    elif entry.sender.person_id:
        _el(sender, "personid", entry.sender.person_id)
    if entry.sender.email:
        _el(sender, "epostadresse", entry.sender.email)
    if entry.sender.phone:
        _el(sender, "telefonnummer", entry.sender.phone)
    recipient = _el(journalpost, "korrespondansepart")
    _code(recipient, "korrespondanseparttype", "EM")
    _el(recipient, "korrespondansepartNavn", entry.municipality_name)
    if entry.municipality_org_number:
        _el(recipient, "organisasjonid", entry.municipality_org_number)
    internal = _el(journalpost, "korrespondansepart")
    _code(internal, "korrespondanseparttype", "IM")
    _el(internal, "korrespondansepartNavn", entry.unit_name)
    _el(
        _el(internal, "administrativEnhet"),
        "navn",
        entry.administrative_unit or entry.unit_name,
        ns=MDK,
    )
    key = _el(journalpost, "referanseEksternNoekkel")
    _el(key, "fagsystem", SYSTEM, ns=MDK)
    _el(key, "noekkel", entry.external_key, ns=MDK)
    _code(journalpost, "journalposttype", "I")
    _code(journalpost, "journalstatus", "M")
    _el(journalpost, "dokumentetsDato", entry.received_at.date().isoformat())
    _el(journalpost, "mottattDato", entry.received_at.isoformat(timespec="seconds"))
    _el(journalpost, "antallVedlegg", str(sum(1 for f in entry.files if f.role == "V")))
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    validate(xml, OPPRETT)
    return xml


SCHEMA_FILES = {
    OPPRETT: "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett.xsd",
    KVITTERING: "no.ks.fiks.arkiv.v1.arkivering.arkivmelding.opprett.kvittering.xsd",
    UGYLDIG: "no.ks.fiks.arkiv.v1.feilmelding.ugyldigforespoersel.xsd",
    SERVERFEIL: "no.ks.fiks.arkiv.v1.feilmelding.serverfeil.xsd",
    IKKEFUNNET: "no.ks.fiks.arkiv.v1.feilmelding.ikkefunnet.xsd",
}


@functools.cache
def schema(message_type: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_DIR / SCHEMA_FILES[message_type]))


def validate(xml: bytes, message_type: str) -> None:
    """Raise ``InvalidMessage`` unless ``xml`` follows the schema of ``message_type``."""
    try:
        document = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise InvalidMessage(f"not XML: {exc}") from exc
    errors = list(schema(message_type).iter_errors(document))
    if errors:
        raise InvalidMessage("; ".join(str(e.reason or e.message) for e in errors[:3]))


@dataclass(frozen=True)
class Receipt:
    journal_year: int | None
    journal_sequence: int | None
    journal_post_number: int | None
    created: bool

    @property
    def reference(self) -> str:
        if self.journal_year is None or self.journal_sequence is None:
            return ""
        return f"{self.journal_year}/{self.journal_sequence}"


def read_receipt(xml: bytes) -> Receipt:
    """The journal numbers in the archive's receipt (validated first)."""
    validate(xml, KVITTERING)
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    registration = root.find(f"{{{KVITTERING_NS}}}registreringKvittering")
    if registration is None:
        failed = root.find(f"{{{KVITTERING_NS}}}registreringFeilet")
        reason = "" if failed is None else "".join(failed.itertext()).strip()
        raise InvalidMessage(f"the archive could not register the entry: {reason}")

    def number(name: str) -> int | None:
        element = registration.find(f"{{{KVITTERING_NS}}}{name}")
        return int(element.text) if element is not None and element.text else None

    state = registration.find(f"{{{KVITTERING_NS}}}opprettetEllerEksisterende")
    return Receipt(
        journal_year=number("journalaar"),
        journal_sequence=number("journalsekvensnummer"),
        journal_post_number=number("journalpostnummer"),
        created=state is not None and state.text == "Opprettet",
    )


def read_error(xml: bytes) -> str:
    """The archive's explanation in a ``feilmelding.xml`` (feilId and feilmelding)."""
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return xml[:500].decode(errors="replace")
    parts = {etree.QName(e).localname: (e.text or "").strip() for e in root.iter() if len(e) == 0}
    return " ".join(v for k, v in parts.items() if k in {"feilId", "feilmelding"} and v)
