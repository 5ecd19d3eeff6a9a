"""The ZIP of a person's data: ``data.json``, ``summary.pdf`` and ``README.txt`` in their
language, and the letters and attachments beside them."""

import io
import json
import zipfile
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from kontaktbok.absence.models import AbsenceReport, AttendanceMark, LookupCase
from kontaktbok.accounts.models import User
from kontaktbok.leave import pdf
from kontaktbok.leave.models import Appeal, Consent, Decision, LeaveApplication
from kontaktbok.notifications import kinds
from kontaktbok.privacy.collect import Collected

SCHEMA_PATH = Path(__file__).resolve().parent / "export_schema.json"


def _labels() -> dict[str, dict[str, str]]:
    """The words for the codes in data.json, for the summary."""
    return {
        name: {str(code): str(label) for code, label in choices}
        for name, choices in {
            "report": AbsenceReport.Status.choices,
            "mark": AttendanceMark.Status.choices,
            "lookup": LookupCase.Status.choices,
            "answer": LookupCase.Answer.choices,
            "outcome": LookupCase.Outcome.choices,
            "category": LeaveApplication.Category.choices,
            "application": LeaveApplication.Status.choices,
            "consent": Consent.Status.choices,
            "decision": Decision.Outcome.choices,
            "appeal": Appeal.Outcome.choices,
        }.items()
    } | {"kind": {code: str(spec.label) for code, spec in kinds.KINDS.items()}}


def summary_pdf(collected: Collected, *, person: User, language: str) -> bytes:
    """The readable summary, a tagged PDF in the person's language."""
    with translation.override(language):
        context = {
            "data": collected.data,
            "person": person,
            "labels": _labels(),
            "language": language,
        }
    return pdf.render_pdf("privacy/summary.html", context, language=language)


def readme(collected: Collected, *, person: User, language: str) -> str:
    """The processing information: purpose, legal basis, recipients, retention, source,
    rights, and what the copy holds and leaves out."""
    with translation.override(language):
        return render_to_string("privacy/readme.txt", {"data": collected.data, "person": person})


def package(collected: Collected, *, person: User, language: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme(collected, person=person, language=language))
        archive.writestr(
            "data.json", json.dumps(collected.data, ensure_ascii=False, indent=2) + "\n"
        )
        archive.writestr("data.schema.json", SCHEMA_PATH.read_bytes())
        archive.writestr("summary.pdf", summary_pdf(collected, person=person, language=language))
        for item in collected.files:
            archive.writestr(item.path, item.content)
    return buffer.getvalue()
