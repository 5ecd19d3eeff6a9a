"""Collecting everything kontaktbok stores about a person, starting from what they may see.

The privacy app is the one place that knows every record about a person (``registry``),
so its collectors read the other apps' rows; each part is scoped the way that app scopes
it for the person's own pages: their own account, their children as guardian
(``access.guardian_pupils``), the threads they are on (``visible_threads``). A staff member
gets their own account, work details, messages and notifications, never pupils' records.
"""

from dataclasses import dataclass
from typing import Any

from kontaktbok.accounts.models import User
from kontaktbok.core import clock
from kontaktbok.leave.models import Consent, LeaveApplication
from kontaktbok.leave.selectors import guardian_scope
from kontaktbok.privacy.collect import account, children, messages, relaylogs
from kontaktbok.privacy.collect.common import ExportFile, Files, day, when

FORMAT = "kontaktbok-data-export"
VERSION = 1


@dataclass(frozen=True)
class Collected:
    data: dict[str, Any]
    files: list[ExportFile]


def consents(person: User) -> list[dict[str, Any]]:
    """The person's own answers to leave applications for children they may see."""
    answers = (
        Consent.objects.filter(
            guardian=person, application__in=LeaveApplication.objects.filter(guardian_scope(person))
        )
        .select_related("application__pupil")
        .order_by("application__start_date", "pk")
    )
    return [
        {
            "application": c.application_id,
            "child": c.application.pupil.full_name,
            "first_day": day(c.application.start_date),
            "last_day": day(c.application.end_date),
            "answer": c.status,
            "note": c.note,
            "answered_at": when(c.answered_at),
            "recorded_by_school": c.recorded_by_id is not None and c.recorded_by_id != person.pk,
        }
        for c in answers
    ]


def submissions(person: User) -> list[dict[str, Any]]:
    """The person's secure submissions: where they went and how far they have come."""
    from kontaktbok.submissions.selectors import my_submissions

    return [
        {
            "code": s.code,
            "sent_at": when(s.created_at),
            "unit": s.unit.name,
            "title": s.delivery.title,
            "as_business": s.as_business,
            "organisation_number": s.organisation_number,
            "case_number": s.delivery.case_number,
            "receipt_channel": s.receipt_channel,
            "archive_state": s.delivery.state,
            "journal_reference": s.delivery.journal_reference,
            "archived_at": when(s.delivery.archived_at),
            "content_deleted_at": when(s.delivery.content_deleted_at),
        }
        for s in my_submissions(person).order_by("created_at", "pk")
    ]


def collect(person: User, *, language: str) -> Collected:
    """``data.json`` and the files beside it (letters, attachments) for ``person``."""
    files = Files()
    hidden = account.hidden_school_ids(person)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "made_at": when(clock.now()),
        "language": language,
        "account": account.account(person, hidden),
        "staff": account.staff(person),
        "work": account.work(person),
        "children": children.children(person, files, language),
        "consents": consents(person),
        "messages": messages.messages(person, files, language),
        "notifications": account.notifications(person, hidden, language),
        "submissions": submissions(person),
        "relay_logs": relaylogs.relay_logs(person, files),
        "exports": account.exports(person),
    }
    data["files"] = [{"path": f.path, "size": len(f.content)} for f in files.items]
    return Collected(data=data, files=files.items)
