"""The relay logs (stafettlogg) the person takes part in and may read today, as the log's
own page shows them (``relaylog.access.readable_logs``): a guardian's, the pupil's from the
consent age, a service's once its consent is given. Reading them for the copy is a read:
audited as the log page audits it, so the other participants see it in the log."""

from typing import Any

from kontaktbok.accounts.models import User
from kontaktbok.privacy.collect.common import Files, day, safe_name, when
from kontaktbok.relaylog import access, closing, selectors, services
from kontaktbok.relaylog.models import RelayLog


def _name(user: Any) -> str | None:
    return user.get_full_name() if user is not None else None


def relay_logs(person: User, files: Files) -> list[dict[str, Any]]:
    return [
        _log(person, log, participant, files)
        for log, participant in sorted(access.readable_logs(person), key=lambda lp: lp[0].pk)
    ]


def _log(person: User, log: RelayLog, participant: Any, files: Files) -> dict[str, Any]:
    content = selectors.log_content(log)
    services.record_reads(
        actor=person, log=log, participant=participant, entries=content["entries"]
    )
    attachments = {
        a.pk: a
        for a in log.attachments.filter(pk__in=[e.attachment_id for e in content["entries"]])
    }
    return {
        "id": log.pk,
        "child": log.pupil.full_name,
        "school": log.school.name,
        "level": log.level,
        "state": log.state,
        "my_part": participant.kind,
        "opened_at": when(log.created_at),
        "closed_at": when(log.closed_at),
        "close_reason": log.close_reason,
        "archive_reference": log.archive_receipt,
        "concern": log.concern,
        "consents": [
            {
                "by": c.given_by_name,
                "as": c.given_by_kind,
                "service": c.service,
                "method": c.method,
                "given_at": when(c.given_at),
                "withdrawn_at": when(c.withdrawn_at),
            }
            for c in content["consents"]
        ],
        "participants": [
            {"name": _name(p.user), "part": p.kind, "service": p.service, "role": p.role}
            for p in content["participants"]
        ],
        "plan": [
            {
                "goal": goal.text,
                "measures": [
                    {
                        "measure": m.text,
                        "responsible": m.responsible,
                        "deadline": day(m.deadline),
                        "evaluate_on": day(m.evaluate_on),
                        "evaluations": [
                            {
                                "at": when(e.created_at),
                                "by": _name(e.evaluated_by),
                                "outcome": e.outcome,
                                "text": e.text,
                            }
                            for e in m.evaluations.all()
                        ],
                    }
                    for m in goal.measures.all()
                ],
            }
            for goal in content["goals"]
        ],
        "entries": [
            {
                "at": when(e.created_at),
                "by": e.author_name,
                "role": e.author_role,
                "text": e.body,
                "corrects": when(e.corrects.created_at) if e.corrects else None,
                "attachment": _attachment(person, attachments.get(e.attachment_id), log, files),
            }
            for e in content["entries"]
        ],
        "holders": [
            {
                "asked_at": when(h.requested_at),
                "from": _name(h.from_user),
                "to": _name(h.to_user),
                "state": h.state,
            }
            for h in content["handovers"]
        ],
        "document": (
            files.add(f"relay-logs/{log.pk}/stafettlogg-{log.pk}.pdf", closing.document_bytes(log))
            if log.state == RelayLog.State.CLOSED
            else None
        ),
    }


def _attachment(person: User, attachment: Any, log: RelayLog, files: Files) -> str | None:
    """The file, opened as its page opens it (audited)."""
    if attachment is None:
        return None
    _attachment_row, data = services.attachment_open(
        actor=person, log_id=log.pk, attachment_uuid=attachment.uuid
    )
    return files.add(f"relay-logs/{log.pk}/{safe_name(attachment.filename)}", data)
