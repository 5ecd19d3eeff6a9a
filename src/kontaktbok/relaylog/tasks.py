"""Background work of the relay log: reminders to the holder and the archive hand-off
(archived logs are removed by the retention run, ``privacy.retention``)."""

from django.tasks import task
from django.urls import reverse
from django.utils import formats

from kontaktbok.core import clock
from kontaktbok.core.scheduler import periodic
from kontaktbok.notifications.services import notify
from kontaktbok.relaylog import closing, selectors
from kontaktbok.relaylog.kinds import DECISION_DUE, EVALUATION_DUE


def remind_decisions() -> int:
    """At level 0 the holder decides within 14 days: reminded each day from three days
    before the deadline, with the deadline."""
    today = clock.today()
    count = 0
    for log in selectors.decisions_due(today):
        notify(
            recipient=log.holder,
            kind=DECISION_DUE.code,
            dedup_key=f"relaylog-decision:{log.pk}:{today.isoformat()}",
            payload={
                "child": log.pupil.first_name,
                "deadline": formats.date_format(log.decide_by, "j.n.Y") if log.decide_by else "",
            },
            url=reverse("relaylog_detail", args=[log.pk]),
            school_id=log.school_id,
        )
        count += 1
    return count


def flag_overdue_evaluations() -> int:
    """An evaluation date passed with no evaluation: the holder is told, once per date."""
    count = 0
    for measure in selectors.evaluations_overdue(clock.today()):
        log = measure.goal.log
        notify(
            recipient=log.holder,
            kind=EVALUATION_DUE.code,
            dedup_key=f"relaylog-evaluation:{measure.pk}:{measure.evaluate_on.isoformat()}",
            payload={"child": log.pupil.first_name},
            url=reverse("relaylog_detail", args=[log.pk]),
            school_id=log.school_id,
        )
        count += 1
    return count


@periodic(every_minutes=60)
@task
def remind_holders() -> int:
    """The 14-day decisions and the overdue evaluations."""
    return remind_decisions() + flag_overdue_evaluations()


@task
def deliver_to_archive(*, log_id: int) -> bool:
    """Hand a closed log to the archive (idempotent)."""
    return closing.deliver(log_id=log_id)


@periodic(every_minutes=60)
@task
def resend_waiting() -> int:
    """Closed logs still waiting for the archive are handed over again (same message id)."""
    from kontaktbok.relaylog.models import RelayLog

    ids = RelayLog.objects.filter(archive_state=RelayLog.Archive.WAITING).values_list(
        "pk", flat=True
    )
    return sum(closing.deliver(log_id=pk) for pk in ids)
