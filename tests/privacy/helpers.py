"""Data for the export tests, written through the services as the application writes it.

``family_a`` gives guardian_a's two children (Anna, 4A; Aksel, 9B) one of each kind of
record; ``same_names`` seeds a second family at the same school whose guardian and
children have the very same names, with records marked ``OTHER FAMILY`` that must never
reach guardian_a's export."""

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.absence.lookup import services as lookup_services
from kontaktbok.absence.services import absence_report_create
from kontaktbok.core import clock
from kontaktbok.leave import services as leave_services
from kontaktbok.leave.models import Decision, LeaveApplication
from kontaktbok.messaging import files as crypto
from kontaktbok.messaging import services as messaging_services
from kontaktbok.notifications.services import preferences_save
from kontaktbok.privacy import services
from kontaktbok.privacy.models import DataExport, DataExportFile
from kontaktbok.schools import services as school_services
from kontaktbok.schools.models import Pupil, StaffRole
from tests import factories
from tests.absence.lookup_factories import open_case
from tests.factories import World
from tests.messaging.helpers import guardian_thread, pdf

Role = StaffRole.Role
LEAVE_DAY = dt.date(2027, 1, 11)
OTHER = "OTHER FAMILY"


def _apply(guardian: Any, pupil: Pupil, reason: str, day: dt.date = LEAVE_DAY) -> LeaveApplication:
    return leave_services.leave_application_create(
        actor=guardian,
        pupil_id=pupil.pk,
        category=LeaveApplication.Category.TRAVEL,
        reason=reason,
        learning_plan="Lekser",
        start_date=day,
        end_date=day,
        rules_confirmed=True,
    )


@dataclass
class FamilyA:
    co_parent: Any  # Anna's other guardian, who applies for leave guardian_a agrees to
    report_comment: str
    thread_id: int
    appeal_text: str


def family_a(w: World) -> FamilyA:
    """guardian_a's children get: an absence report, a registered absence with a lookup
    case guardian_a answers, a declined leave application appealed and upheld (letter and
    case), leave applied for by the other guardian that guardian_a agrees to and the school
    approves (letter and leave days), a thread with an attachment and a reply, and a staff
    member who reads Aksel's absence."""
    absence_report_create(
        actor=w.guardian_a,
        pupil_id=w.child_a.pk,
        start_date=clock.today(),
        end_date=clock.today(),
        absence_type=w.school.absence_types.get(code="sick"),
        comment="Feber hjå Anna",
    )
    case = open_case(teacher=w.contact_teacher_b, group=w.class_b, pupil=w.child_a2)
    lookup_services.lookup_answer(actor=w.guardian_a, case_id=case.pk, answer="on_the_way")
    # Aksel: declined, appealed, upheld.
    declined = _apply(w.guardian_a, w.child_a2, "Bryllaup i familien")
    leave_services.leave_decide(
        actor=w.contact_teacher_b,
        application_id=declined.pk,
        outcome=Decision.Outcome.DECLINED,
        reasons="Prøveveke.",
    )
    leave_services.leave_appeal_create(
        actor=w.guardian_a, application_id=declined.pk, text="Klage frå Guardian A"
    )
    leave_services.leave_appeal_reconsider(
        actor=w.contact_teacher_b, application_id=declined.pk, change=False, note="Står."
    )
    # Anna: the other guardian applies, guardian_a agrees, the school approves.
    co_parent = factories.user("Co Parent A")
    school_services.guardianship_set(actor=None, guardian=co_parent, pupil=w.child_a)
    approved = _apply(co_parent, w.child_a, "Fjelltur", LEAVE_DAY + dt.timedelta(days=1))
    leave_services.leave_consent_answer(actor=w.guardian_a, application_id=approved.pk, agree=True)
    leave_services.leave_decide(
        actor=w.contact_teacher_a,
        application_id=approved.pk,
        outcome=Decision.Outcome.APPROVED,
        reasons="God grunn.",
        approved_start=approved.start_date,
        approved_end=approved.end_date,
    )
    thread = guardian_thread(
        w, pupil=w.child_a, subject="Gymtøy", body="Har Anna gløymt gymtøyet?", files=[pdf()]
    )
    messaging_services.message_reply(
        actor=w.contact_teacher_a, thread_id=thread.pk, body="Ja, det ligg her."
    )
    absence_selectors.absence_history(
        actor=w.contact_teacher_b, pupil=w.child_a2, role=Role.CONTACT_TEACHER
    )
    preferences_save(actor=w.guardian_a, choices={"messaging.message": {"email"}}, digest=True)
    return FamilyA(
        co_parent=co_parent,
        report_comment="Feber hjå Anna",
        thread_id=thread.pk,
        appeal_text="Klage frå Guardian A",
    )


@dataclass
class SameNames:
    guardian: Any
    children: list[Pupil]


def same_names(w: World) -> SameNames:
    """Another family at school A: a guardian called Guardian A, children called as
    guardian_a's (one in 4A, one in 9B), each with a report, a leave application and a
    thread, all marked OTHER FAMILY."""
    guardian = factories.user(w.guardian_a.full_name)
    children = []
    for original, group in ((w.child_a, w.class_a), (w.child_a2, w.class_b)):
        born = original.date_of_birth
        child = school_services.pupil_create(
            actor=None,
            school=w.school,
            first_name=original.first_name,
            last_name=original.last_name,
            date_of_birth=born,
            nin=factories.nin_for(born),
            groups=[group],
        )
        school_services.guardianship_set(actor=None, guardian=guardian, pupil=child)
        absence_report_create(
            actor=guardian,
            pupil_id=child.pk,
            start_date=clock.today(),
            end_date=clock.today(),
            absence_type=w.school.absence_types.get(code="sick"),
            comment=f"{OTHER} report",
        )
        _apply(guardian, child, f"{OTHER} leave")
        guardian_thread(
            w, guardian=guardian, pupil=child, subject=f"{OTHER} thread", body=f"{OTHER} body"
        )
        children.append(child)
    return SameNames(guardian=guardian, children=children)


@dataclass
class Opened:
    export: DataExport
    names: list[str]
    data: dict[str, Any]
    readme: str
    members: dict[str, bytes]

    @property
    def text(self) -> str:
        """data.json and README.txt as text, to search."""
        return json.dumps(self.data, ensure_ascii=False) + self.readme


def open_export(export: DataExport) -> Opened:
    """The stored ZIP of a ready export, decrypted and read."""
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY, export.status
    blob = DataExportFile.objects.get(export=export).ciphertext
    content = crypto.decrypt(bytes(blob), name=services._key_name(export))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return Opened(
        export=export,
        names=sorted(members),
        data=json.loads(members["data.json"]),
        readme=members["README.txt"].decode(),
        members=members,
    )


def export_of(person: Any) -> Opened:
    """Ask for the person's export; the worker builds it once the request commits."""
    export, _new = services.export_request(actor=person)
    return open_export(export)


# --- for tests/test_access_matrix.py --------------------------------------------------------


def matrix_export(w: World) -> dict[str, int]:
    """guardian_a's copy, built and offered."""
    export, _new = services.export_request(actor=w.guardian_a)
    return {"export_id": export.pk}
