"""Reads of relay logs. A log is reached only through ``access.participation`` (its
participants); leiing gets a count by level without names."""

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404

from kontaktbok.core import clock
from kontaktbok.core.models import AuditEntry
from kontaktbok.relaylog import access
from kontaktbok.relaylog.models import (
    Consent,
    Entry,
    Evaluation,
    Goal,
    Handover,
    Measure,
    Participant,
    RelayLog,
    RelayLogCreator,
)

READ_ACTIONS = (
    "relaylog.log.read",
    "relaylog.entry.read",
    "relaylog.attachment.read",
    "relaylog.document.read",
)


def log_content(log: RelayLog) -> dict[str, Any]:
    """Everything in one log, for its page and its PDF (the caller checked access)."""
    measures = Measure.objects.order_by("pk").prefetch_related(
        Prefetch("evaluations", queryset=Evaluation.objects.select_related("evaluated_by"))
    )
    return {
        "participants": list(
            Participant.objects.filter(log=log, removed_at=None).select_related("user")
        ),
        "consents": list(Consent.objects.filter(log=log).select_related("recorded_by")),
        "goals": list(
            Goal.objects.filter(log=log).prefetch_related(Prefetch("measures", queryset=measures))
        ),
        "entries": list(
            Entry.objects.filter(log=log)
            .select_related("attachment", "corrects")
            .defer("attachment__ciphertext")
        ),
        "handovers": list(Handover.objects.filter(log=log).select_related("from_user", "to_user")),
    }


def log_page(actor: Any, log_id: int) -> dict[str, Any]:
    """The log as its participant sees it, with what they may do there."""
    log, participant = access.participation(actor, log_id)
    content = log_content(log)
    facts = access.consent_facts(log)
    holder = access.is_holder(actor, log)
    pending = [h for h in content["handovers"] if h.state == Handover.State.REQUESTED]
    services = sorted({p.service for p in content["participants"] if p.service})
    consent_kinds: dict[str, str] = {
        Participant.Kind.GUARDIAN: Consent.By.GUARDIAN,
        Participant.Kind.PUPIL: Consent.By.PUPIL,
    }
    consent_kind = consent_kinds.get(participant.kind)
    mine = [
        c
        for c in content["consents"]
        if c.withdrawn_at is None
        and c.given_by_kind == consent_kind
        and (consent_kind == Consent.By.PUPIL or c.given_by_id == actor.pk)
    ]
    return {
        "log": log,
        "me": participant,
        "is_holder": holder,
        "is_guardian": participant.kind == Participant.Kind.GUARDIAN,
        "may_plan": participant.kind in (Participant.Kind.STAFF, Participant.Kind.SERVICE),
        "consents_to_give": [s for s in ["", *services] if s not in {c.service for c in mine}]
        if consent_kind
        else [],
        "my_consents": mine,
        "pending_handover": pending[0] if pending else None,
        "base_consent": access.consent_state(log, consents=content["consents"], facts=facts),
        "today": clock.today(),
        **content,
    }


def reads(actor: Any, log_id: int) -> tuple[RelayLog, list[AuditEntry]]:
    """Who has read what in the log, and when: every read audited, newest first."""
    log, _participant = access.participation(actor, log_id)
    rows = list(
        AuditEntry.objects.filter(
            action__in=READ_ACTIONS, school_id=log.school_id, detail__log=log.pk
        ).order_by("-created_at", "-pk")[:500]
    )
    return log, rows


def count_by_level(actor: Any, school_id: int) -> dict[str, Any]:
    """Leiing's overview: how many open logs at each level, with no names."""
    if not access.is_leadership(actor, school_id):
        raise Http404
    counts = dict(
        RelayLog.objects.filter(school_id=school_id)
        .exclude(state=RelayLog.State.CLOSED)
        .values_list("level")
        .annotate(n=Count("pk"))
        .values_list("level", "n")
    )
    return {"levels": [(level, counts.get(level, 0)) for level in range(4)]}


def decisions_due(day: dt.date) -> list[RelayLog]:
    """Open level-0 logs whose 14-day decision falls within three days or has passed."""
    return list(
        RelayLog.objects.filter(level=0, decide_by__lte=day + dt.timedelta(days=3))
        .exclude(state=RelayLog.State.CLOSED)
        .select_related("pupil", "holder")
    )


def evaluations_overdue(day: dt.date) -> list[Measure]:
    """Measures of active logs whose evaluation date has passed with no evaluation since."""
    done = Evaluation.objects.filter(
        measure=OuterRef("pk"), created_at__date__gte=OuterRef("evaluate_on")
    )
    return list(
        Measure.objects.filter(Q(evaluate_on__lt=day), goal__log__state=RelayLog.State.ACTIVE)
        .exclude(Exists(done))
        .select_related("goal__log__pupil", "goal__log__holder")
    )


def creators(actor: Any, school_id: int) -> list[Any]:
    """Leiing: who besides leiing may open relay logs at the school."""
    if not access.is_leadership(actor, school_id):
        raise Http404
    return list(
        RelayLogCreator.objects.filter(school_id=school_id)
        .select_related("user", "allowed_by")
        .order_by("user__full_name")
    )
