"""Speed budget: every page and API call runs at most 15 database queries, whatever the size
of the group or the school (issue 8). Every URL of the access matrix is tried as each actor
allowed to open it; the key pages are tried again after their groups have grown."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontaktbok.absence.models import AttendanceMark
from kontaktbok.absence.services import Mark, attendance_register
from kontaktbok.core import clock
from kontaktbok.schools import services as school_services
from tests import factories, test_access_matrix
from tests.factories import World
from tests.test_access_matrix import ACTORS, MATRIX

clients = test_access_matrix.clients  # the matrix's signed-in clients, as a fixture here

BUDGET = 15
REFUSED = {401, 403, 404}


def _allowed(spec: dict) -> list[str]:
    """The actors that get the page itself (not a refusal, not the login page)."""
    return [
        actor
        for actor in ACTORS
        if isinstance(spec["expected"][actor], int) and spec["expected"][actor] not in REFUSED
    ]


CASES = [(name, actor) for name in sorted(MATRIX) for actor in _allowed(MATRIX[name])]


def _count(client: Client, method: str, url: str) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url)
    return response.status_code, len(queries), [q["sql"] for q in queries.captured_queries]


def _seen(client: Client) -> None:
    """A staff session records when it was last seen on its first request and then once a
    minute (a session write); count the requests in between, as most are."""
    client.get(reverse("manifest"))


@pytest.mark.parametrize("name", sorted({name for name, _ in CASES}))
def test_every_page_within_the_query_budget(
    name: str, world: World, clients: dict[str, Client], settings: Any
) -> None:
    spec = MATRIX[name]
    method = spec.get("method", "get")
    url = reverse(name, kwargs=spec["kwargs"](world))
    _queue_tasks(settings)  # the requests hand their work to the queue, as in production
    over = []
    for actor in _allowed(spec):
        _seen(clients[actor])
        status, count, sql = _count(clients[actor], method, url)
        if count > BUDGET:
            over.append(f"{actor}: {count} queries (status {status})\n  " + "\n  ".join(sql))
    assert not over, f"{name} over {BUDGET} queries:\n" + "\n".join(over)


def _grow(world: World, extra: int = 30) -> None:
    """Add ``extra`` pupils with a guardian each to both classes of school A, with a week of
    attendance and a report for every fifth pupil."""
    from kontaktbok.absence.services import absence_report_create

    teacher = {world.class_a.pk: world.contact_teacher_a, world.class_b.pk: world.contact_teacher_b}
    today = clock.today()
    days = [today - dt.timedelta(days=d) for d in range(7)]
    days = [day for day in days if day.weekday() < 5]
    for group in (world.class_a, world.class_b):
        added = []
        for i in range(extra // 2):
            pupil = factories.pupil(group)
            guardian = factories.user()
            school_services.guardianship_set(actor=None, guardian=guardian, pupil=pupil)
            added.append(pupil)
            if i % 5 == 0:
                absence_report_create(
                    actor=guardian,
                    pupil_id=pupil.pk,
                    start_date=today,
                    end_date=today,
                    absence_type=world.school.absence_types.get(code="sick"),
                )
        for day in days[1:]:
            attendance_register(
                actor=teacher[group.pk],
                group_id=group.pk,
                date=day,
                marks=[Mark(p.pk, "absent" if p.pk % 4 == 0 else "present") for p in added],
            )
    assert AttendanceMark.objects.exists()


# The pages whose size grows with the group or the school: (URL name, actor, kwargs).
KEY_PAGES = [
    ("absence_child", "guardian_a", lambda w: {"pupil_id": w.child_a.pk}),
    ("absence_report_create", "guardian_a", lambda w: {"pupil_id": w.child_a.pk}),
    ("home", "guardian_a", lambda w: {}),
    ("home", "contact_teacher_b", lambda w: {}),
    ("home", "office", lambda w: {}),
    ("attendance_register", "contact_teacher_b", lambda w: {"group_id": w.class_b.pk}),
    ("daily_check", "contact_teacher_b", lambda w: {"group_id": w.class_b.pk}),
    ("absence_statistics", "leadership", lambda w: {"group_id": w.class_b.pk}),
    ("group_detail", "office", lambda w: {"group_id": w.class_a.pk}),
    ("school_overview", "leadership", lambda w: {"school_id": w.school.pk}),
    ("school_check_status", "office", lambda w: {"school_id": w.school.pk}),
    ("lookup_overview", "office", lambda w: {"school_id": w.school.pk}),
    ("leave_queue", "leadership", lambda w: {}),
    ("messaging_inbox", "contact_teacher_b", lambda w: {}),
    ("messaging_inbox", "guardian_a", lambda w: {}),
    ("directory_school", "office", lambda w: {"school_id": w.school.pk}),
    ("directory_child", "guardian_a", lambda w: {"pupil_id": w.child_a.pk}),
    ("api-1:day_sheet", "contact_teacher_b", lambda w: {"group_id": w.class_b.pk}),
    ("api-1:pupils", "office", lambda w: {}),
    ("api-1:report_list", "office", lambda w: {}),
]


def test_key_pages_do_not_grow_with_the_group(world: World, clients: dict[str, Client]) -> None:
    from tests.absence.lookup_factories import open_case

    open_case(teacher=world.contact_teacher_b, group=world.class_b, pupil=world.child_a2)

    def counts() -> dict[tuple[str, str], int]:
        result = {}
        for name, actor, kwargs in KEY_PAGES:
            client = clients[actor]
            _seen(client)
            status, count, _sql = _count(client, "get", reverse(name, kwargs=kwargs(world)))
            assert status == 200, (name, actor, status)
            result[(name, actor)] = count
        return result

    before = counts()
    _grow(world)
    after = counts()
    grew = {page: (before[page], after[page]) for page in before if after[page] != before[page]}
    assert not grew, f"query counts that grew with 30 more pupils (before, after): {grew}"
    over = {page: n for page, n in after.items() if n > BUDGET}
    assert not over, f"over {BUDGET} queries: {over}"


def _count_post(client: Client, url: str, data: dict[str, str]) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    return response.status_code, len(queries), [q["sql"] for q in queries.captured_queries]


def _over(count: int, sql: list[str]) -> str:
    return f"{count} queries:\n  " + "\n  ".join(sql)


def _queue_tasks(settings: Any) -> None:
    """Tasks go to the database queue, as in production, instead of running at once: a
    request's own count then includes handing its work over (one INSERT) and no more."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_saving_a_registration_that_opens_cases(
    world: World, clients: dict[str, Client], settings: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from tests.absence.lookup_factories import look_up_from_now

    look_up_from_now(world.school)
    _grow(world)
    _queue_tasks(settings)
    pupils = list(world.class_b.pupils.all())
    url = reverse("attendance_register", kwargs={"group_id": world.class_b.pk})
    _seen(clients["contact_teacher_b"])
    status, count, sql = _count_post(
        clients["contact_teacher_b"], url, {f"status-{p.pk}": "absent" for p in pupils}
    )
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "kontaktbok.absence.tasks.look_up_registered"
    assert sorted(queued.args_kwargs["kwargs"]["absent"]) == sorted(p.pk for p in pupils)


def test_a_guardian_report_that_answers_an_open_case(
    world: World, clients: dict[str, Client]
) -> None:
    from tests.absence.lookup_factories import open_case

    case = open_case(teacher=world.contact_teacher_a, group=world.class_a, pupil=world.child_a)
    today = clock.today().isoformat()
    sick = world.school.absence_types.get(code="sick")
    url = reverse("absence_report_create", kwargs={"pupil_id": world.child_a.pk})
    data = {
        "start_date": today,
        "end_date": today,
        "absence_type": str(sick.pk),
        "day_part": "whole",
        "idempotency_key": "budget",
    }
    _seen(clients["guardian_a"])
    status, count, sql = _count_post(clients["guardian_a"], url, data)
    assert status == 302
    assert count <= BUDGET, _over(count, sql)
    case.refresh_from_db()
    assert case.status == case.Status.CLOSED


@pytest.mark.parametrize("answer", ["on_the_way", "home_sick"])
def test_a_guardian_answering_the_alert(
    world: World, clients: dict[str, Client], settings: Any, answer: str
) -> None:
    from tests.absence.lookup_factories import open_case

    case = open_case(teacher=world.contact_teacher_b, group=world.class_b, pupil=world.child_a2)
    _queue_tasks(settings)
    url = reverse("lookup_answer", kwargs={"case_id": case.pk})
    _seen(clients["guardian_a"])
    status, count, sql = _count_post(clients["guardian_a"], url, {"answer": answer})
    assert status == 302
    assert count <= BUDGET, _over(count, sql)


def _count_request(call: Any) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response.status_code, len(queries), [q["sql"] for q in queries.captured_queries]


def test_the_other_absence_writes(world: World, clients: dict[str, Client], settings: Any) -> None:
    """The JSON API's report and registration, closing a lookup case and the daily check,
    with a grown class: each within the budget."""
    from tests.absence.lookup_factories import open_case

    _grow(world)
    case = open_case(teacher=world.contact_teacher_b, group=world.class_b, pupil=world.child_a2)
    _queue_tasks(settings)
    today = clock.today().isoformat()
    guardian, teacher = clients["guardian_a"], clients["contact_teacher_b"]
    pupils = list(world.class_b.pupils.all())
    api = "/api/v1/absence"
    writes = {
        "API report": (
            guardian,
            lambda: guardian.post(
                f"{api}/reports",
                {"pupil_id": world.child_a.pk, "start_date": today, "end_date": today,
                 "absence_type": "sick"},
                content_type="application/json",
            ),
            201,
        ),
        "API registration": (
            teacher,
            lambda: teacher.put(
                f"{api}/groups/{world.class_b.pk}/attendance",
                {"date": today, "marks": [{"pupil_id": p.pk, "status": "absent"} for p in pupils]},
                content_type="application/json",
            ),
            200,
        ),
        "closing a case": (
            teacher,
            lambda: teacher.post(
                reverse("lookup_close", kwargs={"case_id": case.pk}), {"outcome": "found"}
            ),
            302,
        ),
        "daily check": (
            teacher,
            lambda: teacher.post(reverse("daily_check", kwargs={"group_id": world.class_b.pk})),
            302,
        ),
    }  # fmt: skip
    over = []
    for name, (client, call, expected) in writes.items():
        _seen(client)
        status, count, sql = _count_request(call)
        assert status == expected, (name, status)
        if count > BUDGET:
            over.append(f"{name}: {_over(count, sql)}")
    assert not over, "\n".join(over)


def test_settings_and_a_changed_report(world: World, clients: dict[str, Client]) -> None:
    """Saving a settings page as shown and with one change, and changing a report."""
    from tests.html_forms import post_forms

    _grow(world)
    report = test_access_matrix.guardian_a_report(world)
    pages = [
        ("school_settings", "school_admin", {"school_id": world.school.pk}, "escalation_minutes"),
        ("notification_settings", "guardian_a", {}, None),
        ("notification_settings", "contact_teacher_b", {}, None),
        ("absence_report_edit", "guardian_a", report, "comment"),
    ]
    over = []
    for name, actor, kwargs, field in pages:
        client, url = clients[actor], reverse(name, kwargs=kwargs)
        [form] = [f for f in post_forms(client.get(url).content.decode()) if not f["action"]]
        changes = [{}] + (
            [{field: "33" if field == "escalation_minutes" else "Ny"}] if field else []
        )
        for change in changes:
            _seen(client)
            status, count, sql = _count_post(client, url, form["data"] | change)
            assert status == 302, (name, actor, change, status)
            if count > BUDGET:
                over.append(f"{name} as {actor} {change}: {_over(count, sql)}")
    assert not over, "\n".join(over)
