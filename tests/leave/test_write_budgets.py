"""Speed budget for leave: every write runs at most 15 database queries, whatever the number
of guardians, days or earlier applications. The work that follows a write (telling people,
the letter, the leave days) is queued in the write's transaction, as in production: the
request pays for one task row, and a worker does the rest (run here with ``_run_queued``)."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from kontaktbok.absence import selectors as absence_selectors
from kontaktbok.core.models import AuditEntry
from kontaktbok.leave import services
from kontaktbok.leave.models import Appeal, Consent, Decision, LeaveApplication
from kontaktbok.notifications.models import Notification
from tests import test_access_matrix
from tests.factories import World
from tests.leave.helpers import second_guardian
from tests.leave.test_pdf import text_of
from tests.test_query_budgets import BUDGET, _count_post, _over, _queue_tasks, _seen

clients = test_access_matrix.clients  # the matrix's signed-in clients, as a fixture here

Status = LeaveApplication.Status
API = "/api/v1/leave"
MONDAY = dt.date(2027, 1, 11)
WEDNESDAY = dt.date(2027, 1, 13)


def _queued() -> list[str]:
    return sorted(
        path.rsplit(".", 1)[-1] for path in DBTaskResult.objects.values_list("task_path", flat=True)
    )


def _run_queued() -> None:
    """Run what the writes queued, in order, as a worker would; then empty the queue."""
    for row in DBTaskResult.objects.order_by("enqueued_at", "id"):
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    DBTaskResult.objects.all().delete()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    _seen(client)
    return client


def _count_json(
    client: Client, url: str, data: dict[str, Any], **headers: Any
) -> tuple[Any, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data, content_type="application/json", headers=headers)
    return response, len(queries), [q["sql"] for q in queries.captured_queries]


def _count_get(client: Client, url: str) -> tuple[Any, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries), [q["sql"] for q in queries.captured_queries]


def _apply(
    world: World, start: dt.date = MONDAY, end: dt.date = MONDAY, **extra: Any
) -> LeaveApplication:
    data: dict[str, Any] = {
        "actor": world.guardian_a,
        "pupil_id": world.child_a2.pk,
        "category": LeaveApplication.Category.TRAVEL,
        "reason": "Reise",
        "learning_plan": "Lekser",
        "start_date": start,
        "end_date": end,
        "rules_confirmed": True,
    }
    data.update(extra)
    return services.leave_application_create(**data)


def _decide(world: World, application: LeaveApplication, outcome: str, **extra: Any) -> Decision:
    return services.leave_decide(
        actor=world.contact_teacher_b,
        application_id=application.pk,
        outcome=outcome,
        reasons="Prøveveke.",
        **extra,
    )


def _more_guardians(world: World, n: int = 3) -> list[Any]:
    return [second_guardian(world, pupil=world.child_a2) for _ in range(n)]


def _agreed(application: LeaveApplication) -> None:
    """Every other guardian agrees."""
    for consent in application.consents.select_related("guardian"):
        services.leave_consent_answer(
            actor=consent.guardian, application_id=application.pk, agree=True
        )


def _history(world: World) -> None:
    """Earlier leave this school year for Aksel: three decided applications."""
    for start in (dt.date(2026, 12, 7), dt.date(2027, 2, 1), dt.date(2027, 3, 1)):
        application = _apply(world, start, start + dt.timedelta(days=1))
        _agreed(application)
        _decide(world, application, Decision.Outcome.APPROVED)
    _run_queued()


def _told(kind: str, dedup_key: str = "") -> set[tuple[int, str, str]]:
    told = Notification.objects.filter(kind=kind)
    if dedup_key:
        told = told.filter(dedup_key=dedup_key)
    return set(told.values_list("recipient", "dedup_key", "url"))


# --- applying -----------------------------------------------------------------------------

APPLY = {
    "start_date": "2027-01-12",
    "end_date": "2027-01-13",
    "category": "travel",
    "reason": "Bestemor fyller 90 år.",
    "learning_plan": "Vi tek med lekseplanen.",
    "rules_confirmed": "on",
    "idempotency_key": "budget",
}


def _apply_post(
    world: World, clients: dict[str, Client], data: dict[str, str] = APPLY
) -> tuple[int, int, list[str]]:
    url = reverse("leave_apply", kwargs={"pupil_id": world.child_a2.pk})
    _seen(clients["guardian_a"])
    return _count_post(clients["guardian_a"], url, data)


def test_a_guardian_applies(world: World, clients: dict[str, Client], settings: Any) -> None:
    _queue_tasks(settings)
    status, count, sql = _apply_post(world, clients)
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    application = LeaveApplication.objects.get(idempotency_key="budget")
    assert (application.status, application.school_days) == (Status.SUBMITTED, 2)
    assert AuditEntry.objects.filter(action="leave.application.created").count() == 1
    assert _queued() == ["tell_deciders"]
    _run_queued()
    url = reverse("leave_review", args=[application.pk])
    assert _told("leave.submitted") == {
        (world.contact_teacher_b.pk, f"leave.submitted:{application.pk}", url)
    }
    # A double tap makes no second application.
    status, count, sql = _apply_post(world, clients)
    assert status == 302 and count <= BUDGET, _over(count, sql)
    assert LeaveApplication.objects.count() == 1 and not _queued()


def test_applying_costs_the_same_with_more_guardians_and_earlier_leave(
    world: World, clients: dict[str, Client], settings: Any
) -> None:
    _queue_tasks(settings)
    first = second_guardian(world, pupil=world.child_a2)
    status, before, sql = _apply_post(world, clients)
    assert status == 302 and before <= BUDGET, _over(before, sql)
    application = LeaveApplication.objects.get(idempotency_key="budget")
    assert application.status == Status.AWAITING_CONSENT
    assert _queued() == ["ask_for_consent"]
    _run_queued()
    assert _told("leave.consent_requested") == {
        (
            first.pk,
            f"leave.consent:{application.pk}",
            reverse("leave_application", args=[application.pk]),
        )
    }

    others = [first, *_more_guardians(world)]
    _history(world)
    longer = APPLY | {"start_date": "2027-04-05", "end_date": "2027-04-16", "idempotency_key": "b2"}
    status, after, sql = _apply_post(world, clients, longer)
    assert status == 302
    assert after <= before, _over(after, sql)
    application = LeaveApplication.objects.get(idempotency_key="b2")
    assert application.days_before == 6 and application.school_days == 10
    assert set(
        Consent.objects.filter(application=application).values_list("guardian", flat=True)
    ) == {g.pk for g in others}
    _run_queued()
    asked = Notification.objects.filter(dedup_key=f"leave.consent:{application.pk}")
    assert {n.recipient_id for n in asked} == {g.pk for g in others}


def test_a_late_application_over_the_limit_warns_within_the_budget(
    world: World, clients: dict[str, Client], settings: Any
) -> None:
    services.leave_rules_save(
        actor=world.school_admin, school=world.school, data={"max_days_per_year": 1}
    )
    second_guardian(world, pupil=world.child_a2)
    _queue_tasks(settings)
    clients["guardian_a"].cookies["kontaktbok_language"] = "en"
    late = APPLY | {"start_date": "2026-11-30", "end_date": "2026-12-01"}
    status, count, sql = _apply_post(world, clients, late)
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    application = LeaveApplication.objects.get(idempotency_key="budget")
    assert application.late and application.over_limit
    page = clients["guardian_a"].get(reverse("leave_application", args=[application.pk]))
    content = page.content.decode()
    assert "the school&#x27;s lead time of 14 days" in content
    assert "more than 1 school days of leave" in content


# --- both guardians -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["agree", "decline"])
def test_the_other_guardian_answers(world: World, settings: Any, answer: str) -> None:
    other, *more = [second_guardian(world, pupil=world.child_a2), *_more_guardians(world, 2)]
    application = _apply(world)
    for guardian in more:
        services.leave_consent_answer(actor=guardian, application_id=application.pk, agree=True)
    _queue_tasks(settings)
    url = reverse("leave_consent", args=[application.pk])
    status, count, sql = _count_post(_client(other), url, {"answer": answer})
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    application.refresh_from_db()
    if answer == "agree":
        assert application.status == Status.SUBMITTED
        assert list(
            AuditEntry.objects.filter(object_id=str(application.pk))
            .order_by("-id")
            .values_list("action", flat=True)[:2]
        ) == ["leave.application.submitted", "leave.consent.agreed"]
        assert _queued() == ["tell_deciders"]
        _run_queued()
        assert {r for r, _k, _u in _told("leave.submitted")} == {world.contact_teacher_b.pk}
    else:
        assert application.status == Status.CONSENT_DECLINED
        assert _queued() == ["tell_consent_declined"]
        _run_queued()
        assert _told("leave.consent_declined") == {
            (
                world.guardian_a.pk,
                f"leave.consent_declined:{application.pk}",
                reverse("leave_application", args=[application.pk]),
            )
        }


@pytest.mark.parametrize("actor", ["office", "contact_teacher_b"])
def test_the_school_records_consent(
    world: World, clients: dict[str, Client], settings: Any, actor: str
) -> None:
    other, *_more = [second_guardian(world, pupil=world.child_a2), *_more_guardians(world, 2)]
    application = _apply(world)
    _queue_tasks(settings)
    url = reverse("leave_record_consent", args=[application.pk])
    _seen(clients[actor])
    status, count, sql = _count_post(
        clients[actor], url, {"guardian": str(other.pk), "note": "Brev."}
    )
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    consent = Consent.objects.get(application=application, guardian=other)
    assert consent.status == Consent.Status.RECORDED_BY_SCHOOL and consent.note == "Brev."
    entry = AuditEntry.objects.get(action="leave.consent.recorded")
    assert entry.detail == {"guardian": other.pk}
    assert not _queued()  # the others have not answered yet
    # Refused: the same guardian again (no longer waiting); the page is shown again.
    response = clients[actor].post(url, {"guardian": str(other.pk), "note": "x"})
    assert response.status_code == 400


def test_withdrawing(world: World, clients: dict[str, Client], settings: Any) -> None:
    _more_guardians(world)
    _history(world)
    application = _apply(world)
    _queue_tasks(settings)
    url = reverse("leave_withdraw", args=[application.pk])
    _seen(clients["guardian_a"])
    status, count, sql = _count_post(clients["guardian_a"], url, {})
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    application.refresh_from_db()
    assert application.status == Status.WITHDRAWN


# --- deciding -----------------------------------------------------------------------------


@pytest.mark.parametrize("grown", [False, True])
@pytest.mark.parametrize(
    ("outcome", "extra"),
    [
        ("approved", {}),
        ("partly_approved", {"approved_start": "2027-01-11", "approved_end": "2027-01-12"}),
        ("declined", {}),
    ],
)
def test_the_contact_teacher_decides(
    world: World,
    clients: dict[str, Client],
    settings: Any,
    outcome: str,
    extra: dict[str, str],
    grown: bool,
) -> None:
    others = _more_guardians(world) if grown else []
    if grown:
        _history(world)
    application = _apply(world, MONDAY, WEDNESDAY)
    _agreed(application)
    _queue_tasks(settings)
    url = reverse("leave_decide", args=[application.pk])
    _seen(clients["contact_teacher_b"])
    data = {"outcome": outcome, "reasons": "Forsvarleg."} | extra
    status, count, sql = _count_post(clients["contact_teacher_b"], url, data)
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    decision = Decision.objects.get(application=application)
    application.refresh_from_db()
    assert application.status == outcome and decision.decided_by_name == "Teacher B"
    assert decision.decided_as == "contact_teacher" and not decision.letter
    entry = AuditEntry.objects.get(action="leave.decision.made", object_id=str(application.pk))
    assert entry.role == "contact_teacher"
    assert entry.detail == {"outcome": outcome, "days": decision.approved_days, "on_appeal": False}
    assert _queued() == ["finish_decision"]
    # Nobody is told before the letter is there.
    assert not _told("leave.decided", f"leave.decided:{decision.pk}")
    _run_queued()
    decision.refresh_from_db()
    letter = text_of(decision.letter)
    assert "9B" in letter and decision.reasons in letter
    told = _told("leave.decided", f"leave.decided:{decision.pk}")
    assert {r for r, _k, _u in told} == {world.guardian_a.pk, *(o.pk for o in others)}
    assert {(k, u) for _r, k, u in told} == {
        (f"leave.decided:{decision.pk}", reverse("leave_application", args=[application.pk]))
    }
    leave = absence_selectors.leave_days([world.child_a2.pk], MONDAY, WEDNESDAY).filter(
        reference=f"leave:{application.pk}"
    )
    if outcome == "declined":
        assert not leave.exists()
    else:
        assert (leave.get().start_date, leave.get().end_date) == (
            decision.approved_start,
            decision.approved_end,
        )
        assert AuditEntry.objects.filter(
            action="absence.leave.recorded", detail__reference=f"leave:{application.pk}"
        ).exists()
    # The worker made the letter for nobody to read yet: no reader is audited.
    assert not AuditEntry.objects.filter(action="absence.history.read").exists()


def test_the_letter_opened_before_the_worker_has_made_it(
    world: World, clients: dict[str, Client], settings: Any
) -> None:
    _more_guardians(world)
    _history(world)
    application = _apply(world, MONDAY, WEDNESDAY)
    _agreed(application)
    _queue_tasks(settings)
    decision = _decide(world, application, Decision.Outcome.DECLINED)
    url = reverse("leave_letter", args=[decision.pk])
    for actor in ("guardian_a", "contact_teacher_b"):
        _seen(clients[actor])
        response, count, sql = _count_get(clients[actor], url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert count <= BUDGET, _over(count, sql)
    decision.refresh_from_db()
    assert bytes(decision.letter) == response.content
    assert "9B" in text_of(response.content) and "Teacher B" in text_of(response.content)
    reads = AuditEntry.objects.filter(
        action="absence.history.read", object_id=str(world.child_a2.pk)
    )
    # Each who opened the letter; not the worker that made this one or the three earlier.
    assert {(e.actor, e.role) for e in reads} == {
        (world.guardian_a, "guardian"),
        (world.contact_teacher_b, "contact_teacher"),
    }
    _run_queued()  # the worker finds the letter made, and tells the guardians
    decision.refresh_from_db()
    assert bytes(decision.letter) == response.content
    assert Notification.objects.filter(
        kind="leave.decided", dedup_key=f"leave.decided:{decision.pk}"
    ).exists()


# --- appeals ------------------------------------------------------------------------------


def test_a_guardian_appeals(world: World, clients: dict[str, Client], settings: Any) -> None:
    _more_guardians(world)
    _history(world)
    application = _apply(world, MONDAY, WEDNESDAY)
    _agreed(application)
    _decide(world, application, Decision.Outcome.DECLINED)
    _queue_tasks(settings)
    url = reverse("leave_appeal", args=[application.pk])
    _seen(clients["guardian_a"])
    status, count, sql = _count_post(clients["guardian_a"], url, {"text": "Vi klagar."})
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    appeal = Appeal.objects.get(application=application)
    application.refresh_from_db()
    assert application.status == Status.APPEAL_PENDING and appeal.guardian == world.guardian_a
    assert _queued() == ["tell_appeal_received"]
    _run_queued()
    assert _told("leave.appeal_received") == {
        (
            world.contact_teacher_b.pk,
            f"leave.appeal:{appeal.pk}",
            reverse("leave_review", args=[application.pk]),
        )
    }


def _appealed(world: World) -> LeaveApplication:
    _more_guardians(world)
    _history(world)
    application = _apply(world, MONDAY, WEDNESDAY)
    _agreed(application)
    _decide(world, application, Decision.Outcome.DECLINED)
    services.leave_appeal_create(
        actor=world.guardian_a, application_id=application.pk, text="Klage"
    )
    _run_queued()
    return application


@pytest.mark.parametrize(
    "data",
    [
        {"result": "change", "outcome": "approved"},
        {
            "result": "change",
            "outcome": "partly_approved",
            "approved_start": "2027-01-12",
            "approved_end": "2027-01-12",
        },
        {"result": "uphold"},
    ],
)
def test_the_appeal_is_reconsidered(
    world: World, clients: dict[str, Client], settings: Any, data: dict[str, str]
) -> None:
    _queue_tasks(settings)
    application = _appealed(world)
    url = reverse("leave_reconsider", args=[application.pk])
    _seen(clients["contact_teacher_b"])
    posted = data | {"note": "Vurdert på nytt.", "reasons": "Forsvarleg."}
    status, count, sql = _count_post(clients["contact_teacher_b"], url, posted)
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    appeal = Appeal.objects.get(application=application)
    application.refresh_from_db()
    entry = AuditEntry.objects.get(action="leave.appeal.reconsidered")
    assert entry.detail == {"outcome": appeal.outcome}
    guardian_page = reverse("leave_application", args=[application.pk])
    if data["result"] == "change":
        assert appeal.outcome == Appeal.Outcome.CHANGED
        assert application.status == Status.RECONSIDERED
        assert _queued() == ["finish_decision"]
        _run_queued()
        latest = application.decisions.order_by("-id").first()
        assert latest.on_appeal and latest.outcome == data["outcome"]
        assert bytes(latest.letter).startswith(b"%PDF")
        assert absence_selectors.leave_days([world.child_a2.pk], MONDAY, WEDNESDAY).exists()
    else:
        assert appeal.outcome == Appeal.Outcome.UPHELD and appeal.sent_on_at is None
        assert application.status == Status.SENT_TO_STATSFORVALTER
        assert _queued() == ["finish_upheld_appeal"]
        _run_queued()
        appeal.refresh_from_db()
        assert bytes(appeal.case_pdf).startswith(b"%PDF")
    told = _told("leave.appeal_outcome")
    assert {(k, u) for _r, k, u in told} == {(f"leave.appeal_outcome:{appeal.pk}", guardian_page)}
    assert len(told) == 4  # guardian_a and the three others


def test_the_case_opened_before_the_worker_has_made_it(
    world: World, clients: dict[str, Client], settings: Any
) -> None:
    _queue_tasks(settings)
    application = _appealed(world)
    appeal = services.leave_appeal_reconsider(
        actor=world.contact_teacher_b, application_id=application.pk, change=False, note="Står."
    )
    assert not appeal.case_pdf
    url = reverse("leave_case_pdf", args=[appeal.pk])
    _seen(clients["contact_teacher_b"])
    response, count, sql = _count_get(clients["contact_teacher_b"], url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert count <= BUDGET, _over(count, sql)
    appeal.refresh_from_db()
    assert bytes(appeal.case_pdf) == response.content


# --- the JSON API -------------------------------------------------------------------------


def test_the_api_writes(world: World, clients: dict[str, Client], settings: Any) -> None:
    other = second_guardian(world, pupil=world.child_a2)
    _more_guardians(world, 2)
    _history(world)
    _queue_tasks(settings)
    guardian, teacher, office = (
        clients["guardian_a"],
        clients["contact_teacher_b"],
        clients["office"],
    )
    for client in (guardian, teacher, office):
        _seen(client)
    other_client = _client(other)
    body = {
        "pupil_id": world.child_a2.pk,
        "start_date": "2027-04-05",
        "end_date": "2027-04-07",
        "category": "travel",
        "reason": "Reise",
        "learning_plan": "Lekser",
        "rules_confirmed": True,
    }

    def step(
        name: str, client: Client, path: str, data: dict[str, Any], expected: int, **headers: Any
    ) -> Any:
        response, count, sql = _count_json(client, f"{API}{path}", data, **headers)
        assert response.status_code == expected, (name, response.content)
        assert count <= BUDGET, f"{name}: " + _over(count, sql)
        return response.json()

    created = step("apply", guardian, "/applications", body, 201, **{"Idempotency-Key": "api"})
    pk = created["id"]
    again = step("apply again", guardian, "/applications", body, 201, **{"Idempotency-Key": "api"})
    assert again["id"] == pk
    assert step("agree", other_client, f"/applications/{pk}/consent", {"agree": True}, 200)
    pending = [c for c in created["consents"] if c["guardian_id"] != other.pk]
    for consent in pending:
        data = {"guardian_id": consent["guardian_id"], "note": "Brev."}
        answer = step("record", office, f"/applications/{pk}/recorded-consent", data, 200)
    assert answer["status"] == "submitted"
    decided = step(
        "decide",
        teacher,
        f"/applications/{pk}/decision",
        {"outcome": "declined", "reasons": "Nei."},
        201,
    )
    assert decided["status"] == "declined"
    appealed = step("appeal", guardian, f"/applications/{pk}/appeal", {"text": "Klage."}, 201)
    assert appealed["status"] == "appeal_pending"
    reconsidered = step(
        "reconsider",
        teacher,
        f"/applications/{pk}/appeal/reconsider",
        {"change": False, "note": "Står."},
        200,
    )
    assert reconsidered["status"] == "sent_to_statsforvalter"
    letter_url = decided["decisions"][0]["letter_url"]
    response, count, sql = _count_get(other_client, letter_url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert count <= BUDGET, _over(count, sql)
    withdrawn_app = _apply(world, dt.date(2027, 5, 3), dt.date(2027, 5, 3))
    withdrawn = step("withdraw", guardian, f"/applications/{withdrawn_app.pk}/withdraw", {}, 200)
    assert withdrawn["status"] == "withdrawn"
    _run_queued()
    assert (
        Notification.objects.filter(
            dedup_key=f"leave.decided:{decided['decisions'][0]['id']}"
        ).count()
        == 4
    )


@pytest.mark.parametrize(
    "data",
    [
        {"change": True, "outcome": "approved"},
        {
            "change": True,
            "outcome": "partly_approved",
            "approved_start": "2027-01-12",
            "approved_end": "2027-01-12",
        },
        {"change": False},
    ],
)
def test_the_api_reconsiders(
    world: World, clients: dict[str, Client], settings: Any, data: dict[str, Any]
) -> None:
    _queue_tasks(settings)
    application = _appealed(world)
    _seen(clients["contact_teacher_b"])
    body = data | {"note": "Vurdert på nytt.", "reasons": "Forsvarleg."}
    url = f"{API}/applications/{application.pk}/appeal/reconsider"
    response, count, sql = _count_json(clients["contact_teacher_b"], url, body)
    assert response.status_code == 200, response.content
    assert count <= BUDGET, _over(count, sql)
    answer = response.json()
    outcome = "changed" if data["change"] else "upheld"
    assert answer["appeal"]["outcome"] == outcome and answer["appeal"]["note"] == body["note"]
    assert [d["outcome"] for d in answer["decisions"]] == ["declined"] + (
        [data["outcome"]] if data["change"] else []
    )
    _run_queued()
    appeal = Appeal.objects.get(application=application)
    assert Notification.objects.filter(dedup_key=f"leave.appeal_outcome:{appeal.pk}").count() == 4
