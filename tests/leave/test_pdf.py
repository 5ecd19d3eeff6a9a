"""The decision letter holds everything an enkeltvedtak must; the appeal case PDF too."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from kontaktbok.leave import pdf, services
from kontaktbok.leave.models import Decision
from tests.leave.helpers import MONDAY, apply, decide, second_guardian

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(bytes(content)))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def decided(world):
    other = second_guardian(world)
    services.municipality_leave_rules_set(
        actor=None,
        municipality=world.school.municipality,
        data={
            "regulation_name": "Forskrift om permisjon frå opplæringa, Testkommune",
            "appeal_body": "Statsforvaltaren i Vestland",
        },
    )
    application = apply(world, MONDAY, dt.date(2027, 1, 13), category="travel")
    services.leave_consent_answer(actor=other, application_id=application.pk, agree=True)
    decision = decide(
        world,
        application,
        Decision.Outcome.PARTLY_APPROVED,
        approved_start=MONDAY,
        approved_end=dt.date(2027, 1, 12),
        reasons="To dagar er forsvarleg; den tredje er det heildagsprøve.",
    )
    return application, decision, other


def test_the_letter_holds_every_part_of_an_enkeltvedtak(world, decided):
    application, decision, other = decided
    member = world.contact_teacher_a.staff_memberships.get()
    member.work_phone = "+47 57 11 22 33"
    member.save(update_fields=["work_phone"])
    letter = text_of(
        pdf.render_pdf(
            "leave/decision_letter.html",
            services.letter_context(application, decision),
            language="en",
        )
    )
    parts = {
        "parties": ["Parties", world.child_a.full_name, "Guardian A", other.full_name, "Skule A"],
        "the decision": ["partly approved", "11.01.2027", "12.01.2027", "2 school days"],
        "the facts": [
            "Facts of the case",
            "13.01.2027",
            "3 school days",
            "Travel or family event",
            "Bestemor fyller 90 år",
            "lekseplanen",
            "Leave this school year",
            "Absence this school year",
        ],
        "the legal basis": [
            "opplæringslova) § 2-2",
            "Forskrift om permisjon frå opplæringa, Testkommune",
            "enkeltvedtak",
        ],
        "the reasons": ["Reasons", "heildagsprøve"],
        "the right to appeal": [
            "within three weeks",
            "forvaltningslova §§ 28 to 30",
            "15.12.2026",
            "Statsforvaltaren i Vestland",
            "in writing",
            "in kontaktbok",
        ],
        "access to the documents": ["forvaltningslova §§ 18 and 19"],
        "the caseworker": [
            "Caseworker",
            "Teacher A",
            decision.decided_by_role,
            "Work phone: +47 57 11 22 33",
            f"E-mail: {world.contact_teacher_a.email}",
        ],
    }
    missing = {part: [t for t in texts if t not in letter] for part, texts in parts.items()}
    assert not any(missing.values()), f"missing from the letter: {missing}\n\n{letter}"


def test_the_stored_letter_is_in_the_schools_language_with_the_facts(world, decided):
    _application, decision, other = decided
    letter = text_of(decision.letter)
    for expected in (
        world.child_a.full_name,
        other.full_name,
        "§ 2-2",
        "§§ 18",
        "Forskrift om permisjon frå opplæringa, Testkommune",
        "Statsforvaltaren i Vestland",
        "Teacher A",
        "15.12.2026",
    ):
        assert expected in letter


def test_a_declined_letter_says_so(world):
    application = apply(world)
    decision = decide(world, application, Decision.Outcome.DECLINED, reasons="Prøveveke.")
    letter = text_of(
        pdf.render_pdf(
            "leave/decision_letter.html",
            services.letter_context(application, decision),
            language="en",
        )
    )
    assert "is declined" in letter and "Prøveveke." in letter


def test_the_case_sent_to_the_statsforvalter(world, decided):
    application, _decision, other = decided
    services.leave_appeal_create(
        actor=other, application_id=application.pk, text="Vi ønskjer alle tre dagane."
    )
    appeal = services.leave_appeal_reconsider(
        actor=world.contact_teacher_a,
        application_id=application.pk,
        change=False,
        note="Heildagsprøva kan ikkje flyttast.",
    )
    case = text_of(appeal.case_pdf)
    for expected in (
        "Statsforvaltaren i Vestland",
        world.child_a.full_name,
        "Vi ønskjer alle tre dagane.",
        "Heildagsprøva kan ikkje flyttast.",
        "heildagsprøve",
        "§ 2-2",
    ):
        assert expected in case


def test_the_letter_is_a_tagged_accessible_pdf(world, decided):
    """PDF/UA: a structure tree for screen readers, marked content, the language and the
    title shown instead of the file name."""
    application, decision, _other = decided
    content = pdf.render_pdf(
        "leave/decision_letter.html", services.letter_context(application, decision), language="nn"
    )
    root = PdfReader(io.BytesIO(content)).trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "nn"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
