"""Every URL the project serves, tried as each actor. A URL without a row fails the test,
so each new page must say who may open it."""

from collections.abc import Callable
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kontaktbok.notifications.services import notify
from tests.absence.lookup_factories import case_of_child_a2
from tests.factories import World
from tests.leave import matrix as leave

ACTORS = [
    "anonymous",
    "guardian_a",
    "guardian_b",
    "guardian_without_responsibility",
    "contact_teacher_b",
    "office",
    "leadership",
    "school_admin",
    "other_leadership",
]
LOGIN = "login"  # redirected to the login page
ANY_PAGE = {200, 302}


def row(kwargs: Callable[[World], dict[str, Any]] | None = None, **expected: Any) -> dict:
    """Expected status per actor; '*' is the default for actors not named."""
    default = expected.pop("default", None)
    return {
        "kwargs": kwargs or (lambda w: {}),
        "expected": {actor: expected.get(actor, default) for actor in ACTORS},
    }


def only(
    *allowed: str,
    anonymous: Any = LOGIN,
    kwargs=None,
    ok: Any = 200,
    no: Any = 404,
    method: str = "get",
):
    """Allowed for the named actors, 404 for every other signed-in actor."""
    expected = {actor: ok if actor in allowed else no for actor in ACTORS}
    expected["anonymous"] = anonymous
    return {"kwargs": kwargs or (lambda w: {}), "expected": expected, "method": method}


child_a = lambda w: {"pupil_id": w.child_a.pk}  # noqa: E731
child_a2 = lambda w: {"pupil_id": w.child_a2.pk}  # noqa: E731
class_b = lambda w: {"group_id": w.class_b.pk}  # noqa: E731
school_a = lambda w: {"school_id": w.school.pk}  # noqa: E731
SIGNED_IN = [a for a in ACTORS if a != "anonymous"]


def guardian_a_report(w: World) -> dict[str, int]:
    """A report guardian_a made today for child_a (class 4A)."""
    from kontaktbok.absence.services import absence_report_create
    from kontaktbok.core import clock

    report = absence_report_create(
        actor=w.guardian_a,
        pupil_id=w.child_a.pk,
        start_date=clock.today(),
        end_date=clock.today(),
        absence_type=w.school.absence_types.get(code="sick"),
    )
    return {"report_id": report.pk}


MATRIX: dict[str, dict] = {
    # Pages of the school model.
    "home": only(*SIGNED_IN),
    "pupil_detail": only("guardian_a", "office", "leadership", kwargs=child_a),
    "group_detail": only("office", "leadership", kwargs=lambda w: {"group_id": w.class_a.pk}),
    "school_overview": only("office", "leadership", kwargs=school_a),
    "school_settings": only("school_admin", kwargs=school_a),
    "absence_type_create": only("school_admin", kwargs=school_a),
    "absence_type_edit": only(
        "school_admin",
        kwargs=lambda w: {"school_id": w.school.pk, "type_id": w.school.absence_types.first().pk},
    ),
    # POST only; an empty form is refused (400) for the admin, unknown (404) for the rest.
    "holiday_add": only("school_admin", kwargs=school_a, method="post", ok=400),
    "holiday_remove": only(
        "school_admin",
        method="post",
        ok=302,
        kwargs=lambda w: {
            "school_id": w.school.pk,
            "holiday_id": w.school.school_years.get().holidays.first().pk,
        },
    ),
    "audit_search": only("leadership", "other_leadership"),
    # Absence, guardians: their own child's pages only.
    "absence_child": only("guardian_a", kwargs=child_a),
    "absence_report_create": only("guardian_a", kwargs=child_a),
    "absence_report_edit": only("guardian_a", kwargs=guardian_a_report),
    # POST only: the guardian's withdrawal is done and redirected.
    "absence_report_withdraw": only("guardian_a", kwargs=guardian_a_report, method="post", ok=302),
    # Absence, staff: class 9B's contact teacher, kontor and leiing of the school.
    "attendance_register": only("contact_teacher_b", "office", "leadership", kwargs=class_b),
    "daily_check": only("contact_teacher_b", "office", "leadership", kwargs=class_b),
    "absence_statistics": only("contact_teacher_b", "office", "leadership", kwargs=class_b),
    # Aksel is in 9B: staff who see him.
    "pupil_absence_history": only("contact_teacher_b", "office", "leadership", kwargs=child_a2),
    "school_check_status": only("office", "leadership", kwargs=school_a),
    # Notifications: one's own only; the school admin sees failures and the demo sink.
    "notification_inbox": only(*SIGNED_IN),
    "notification_open": only(
        "guardian_a",
        ok=302,
        kwargs=lambda w: {
            "notification_id": notify(
                recipient=w.guardian_a, kind="notifications.test", dedup_key="matrix"
            ).pk
        },
    ),
    "notification_mark_all_read": only(*SIGNED_IN, method="post", ok=302),
    "notification_badge": only(*SIGNED_IN),
    "notification_settings": only(*SIGNED_IN),
    "push_subscribe": only(*SIGNED_IN, method="post", ok=400),
    "push_unsubscribe": only(*SIGNED_IN, method="post", ok=200),
    "notification_test": only(*SIGNED_IN, method="post", ok=302),
    "notification_failed": only("school_admin"),
    "notification_sink": only("school_admin"),
    # JSON API: 401 without a session.
    "api-1:me": only(*SIGNED_IN, anonymous=401),
    "api-1:pupils": only(*SIGNED_IN, anonymous=401),
    "api-1:groups": only(*SIGNED_IN, anonymous=401),
    "api-1:pupil": only("guardian_a", "office", "leadership", anonymous=401, kwargs=child_a),
    # Absence API. A request without its body is refused (400/422) before anything is read;
    # the scoping of full requests is tested in tests/absence/test_api.py.
    "api-1:report_create": only(*SIGNED_IN, anonymous=401, method="post", ok=400),
    "api-1:report_list": only(*SIGNED_IN, anonymous=401),
    "api-1:report_update": only(
        *SIGNED_IN, anonymous=401, kwargs=guardian_a_report, method="patch", ok=422
    ),
    "api-1:report_withdraw": only(
        "guardian_a", anonymous=401, kwargs=guardian_a_report, method="post"
    ),
    "api-1:day_sheet": only(
        "contact_teacher_b", "office", "leadership", anonymous=401, kwargs=class_b
    ),
    "api-1:attendance_register": only(
        *SIGNED_IN, anonymous=401, kwargs=class_b, method="put", ok=422
    ),
    "api-1:daily_check": only(
        "contact_teacher_b", "office", "leadership", anonymous=401, kwargs=class_b, method="post"
    ),
    # Lookup (etterlysing): rows below this line.
    # Guardians answer their own child's case (an empty answer is refused: 400); the case's
    # staff (9B's contact teacher, kontor, leiing) follow and close it; kontor and leiing
    # see the school's overview.
    "lookup_case": only(
        "guardian_a", "contact_teacher_b", "office", "leadership", kwargs=case_of_child_a2
    ),
    "lookup_answer": only("guardian_a", kwargs=case_of_child_a2, method="post", ok=400),
    "lookup_close": only(
        "contact_teacher_b",
        "office",
        "leadership",
        kwargs=case_of_child_a2,
        method="post",
        ok=400,
    ),
    "lookup_overview": only("office", "leadership", kwargs=school_a),
    "lookup_overview_rows": only("office", "leadership", kwargs=school_a),
    # Leave (permisjon): rows below this line.
    # Guardians: their own child's applications only (Aksel, 9B, is guardian_a's).
    "leave_child": only("guardian_a", kwargs=child_a),
    "leave_apply": only("guardian_a", kwargs=child_a),
    "leave_application": only("guardian_a", kwargs=leave.application),
    # POST only: guardian_a is not asked to agree (told so, redirected); withdrawing is done.
    "leave_consent": only("guardian_a", kwargs=leave.application, method="post", ok=302),
    "leave_withdraw": only("guardian_a", kwargs=leave.application, method="post", ok=302),
    # POST only: an empty appeal is refused (400) for the guardian.
    "leave_appeal": only("guardian_a", kwargs=leave.decided, method="post", ok=400),
    # The letter: the guardians and the staff who see the case.
    "leave_letter": only(
        "guardian_a", "contact_teacher_b", "office", "leadership", kwargs=leave.letter
    ),
    # Staff: 9B's contact teacher, kontor and leiing; kontor reads but does not decide.
    "leave_queue": only("contact_teacher_b", "office", "leadership", "other_leadership"),
    "leave_review": only("contact_teacher_b", "office", "leadership", kwargs=leave.application),
    "leave_decide": only(
        "contact_teacher_b", "leadership", kwargs=leave.application, method="post", ok=400
    ),
    "leave_record_consent": only(
        "contact_teacher_b",
        "office",
        "leadership",
        kwargs=leave.application,
        method="post",
        ok=400,
    ),
    "leave_reconsider": only(
        "contact_teacher_b", "leadership", kwargs=leave.appealed, method="post", ok=400
    ),
    "leave_case_pdf": only("contact_teacher_b", "office", "leadership", kwargs=leave.case),
    "leave_rules": only("school_admin", kwargs=school_a),
    # Leave API. A request without its body is refused before anything is read; the
    # scoping of full requests is tested in tests/leave/test_api.py.
    "api-1:leave_application_create": only(*SIGNED_IN, anonymous=401, method="post", ok=400),
    "api-1:leave_application_list": only(*SIGNED_IN, anonymous=401),
    "api-1:leave_application_detail": only(
        "guardian_a",
        "contact_teacher_b",
        "office",
        "leadership",
        anonymous=401,
        kwargs=leave.application,
    ),
    "api-1:leave_consent_answer": only(
        *SIGNED_IN, anonymous=401, kwargs=leave.application, method="post", ok=400
    ),
    "api-1:leave_application_withdraw": only(
        "guardian_a", anonymous=401, kwargs=leave.application, method="post"
    ),
    "api-1:leave_appeal_create": only(
        *SIGNED_IN, anonymous=401, kwargs=leave.decided, method="post", ok=400
    ),
    "api-1:leave_decision_letter": only(
        "guardian_a",
        "contact_teacher_b",
        "office",
        "leadership",
        anonymous=401,
        kwargs=leave.letter,
    ),
    "api-1:leave_queue": only(
        "contact_teacher_b", "office", "leadership", "other_leadership", anonymous=401
    ),
    "api-1:leave_consent_record": only(
        *SIGNED_IN, anonymous=401, kwargs=leave.application, method="post", ok=400
    ),
    "api-1:leave_decide": only(
        *SIGNED_IN, anonymous=401, kwargs=leave.application, method="post", ok=400
    ),
    "api-1:leave_appeal_reconsider": only(
        *SIGNED_IN, anonymous=401, kwargs=leave.appealed, method="post", ok=400
    ),
    # Messages (meldingar): rows below this line.
    "messaging_inbox": only(*SIGNED_IN),
    "messaging_compose": only("guardian_a", kwargs=child_a),
    "messaging_compose_family": only("contact_teacher_b", "office", "leadership", kwargs=child_a2),
    "messaging_broadcast": only("contact_teacher_b", "office", "leadership", "other_leadership"),
    "messaging_broadcast_detail": only(
        "contact_teacher_b",
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_broadcast(w),
    ),
    # A thread of guardian_a and Aksel's contact teacher: those two only.
    "messaging_thread": only(
        "guardian_a",
        "contact_teacher_b",
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    # POST only: an empty form is refused (400) for staff on the thread.
    "messaging_participant_add": only(
        "contact_teacher_b",
        method="post",
        ok=400,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "messaging_archive": only(
        "guardian_a",
        "contact_teacher_b",
        method="post",
        ok=302,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "messaging_attachment": only(
        "guardian_a",
        "contact_teacher_b",
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_file(w),
    ),
    "messaging_settings": only("school_admin", kwargs=school_a),
    # Messages API. A request without its body is refused (400/422) before anything is read;
    # the scoping of full requests is tested in tests/messaging/test_api.py.
    "api-1:message_thread_list": only(*SIGNED_IN, anonymous=401),
    "api-1:message_thread_create": only(*SIGNED_IN, anonymous=401, method="post", ok=400),
    "api-1:message_thread_detail": only(
        "guardian_a",
        "contact_teacher_b",
        anonymous=401,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "api-1:message_reply_create": only(
        *SIGNED_IN,
        anonymous=401,
        method="post",
        ok=422,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "api-1:message_thread_mark_read": only(
        "guardian_a",
        "contact_teacher_b",
        anonymous=401,
        method="post",
        ok=204,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "api-1:message_thread_archive": only(
        *SIGNED_IN,
        anonymous=401,
        method="post",
        ok=400,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "api-1:message_participant_add": only(
        *SIGNED_IN,
        anonymous=401,
        method="post",
        ok=400,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_thread(w),
    ),
    "api-1:message_attachment_download": only(
        "guardian_a",
        "contact_teacher_b",
        anonymous=401,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_file(w),
    ),
    # Aksel (9B): his guardian chooses roles; staff who see him see his guardians.
    "api-1:message_recipients": only(
        "guardian_a", "contact_teacher_b", "office", "leadership", anonymous=401, kwargs=child_a2
    ),
    # Only the caller's own groups are counted; others get zero families.
    "api-1:message_broadcast_preview": only(*SIGNED_IN, anonymous=401),
    "api-1:message_broadcast_create": only(*SIGNED_IN, anonymous=401, method="post", ok=400),
    "api-1:message_broadcast_detail": only(
        "contact_teacher_b",
        anonymous=401,
        kwargs=lambda w: __import__("tests.messaging.helpers", fromlist=["_"]).matrix_broadcast(w),
    ),
    # Staff directory: rows below this line.
    # Guardians: their own child's contacts. Staff: their school's directory; the school admin
    # changes an entry. The API PATCH without a body is refused (422) before anything is read;
    # its scoping is tested in tests/directory/test_api.py.
    "directory_child": only("guardian_a", kwargs=child_a),
    "directory_school": only(
        "contact_teacher_b", "office", "leadership", "school_admin", kwargs=school_a
    ),
    "directory_entry_edit": only(
        "school_admin",
        kwargs=lambda w: {
            "school_id": w.school.pk,
            "member_id": w.contact_teacher_a.staff_memberships.get().pk,
        },
    ),
    "api-1:directory_child_contacts": only("guardian_a", anonymous=401, kwargs=child_a),
    "api-1:directory_school": only(
        "contact_teacher_b", "office", "leadership", "school_admin", anonymous=401, kwargs=school_a
    ),
    "api-1:directory_entry_update": only(
        *SIGNED_IN,
        anonymous=401,
        method="patch",
        ok=422,
        kwargs=lambda w: {
            "school_id": w.school.pk,
            "member_id": w.contact_teacher_a.staff_memberships.get().pk,
        },
    ),
    "api-1:openapi-json": row(default=200),
    "api-1:api-root": row(default=404),
    # Public plumbing.
    "manifest": row(default=200),
    "service_worker": row(default=200),
    "health": row(default=200),
    "set_language": row(default=302),
    # Accounts (allauth): one's own account only; sign-up is closed.
    "account_login": row(anonymous=200, default=302),
    "account_logout": row(anonymous=302, default=200),
    "account_inactive": row(default=200),
    "account_signup": row(anonymous=200, default=302),
    "account_reauthenticate": row(anonymous=LOGIN, default=200),
    "account_request_reauthentication_code": row(anonymous=LOGIN, default=ANY_PAGE),
    "account_confirm_reauthentication_code": row(anonymous=LOGIN, default=ANY_PAGE),
    "account_email": row(anonymous=LOGIN, default=200),
    "account_email_verification_sent": row(default=200),
    "account_change_password": row(anonymous=LOGIN, default=ANY_PAGE),
    "account_set_password": row(anonymous=LOGIN, default=ANY_PAGE),
    "account_reset_password": row(default=200),
    "account_reset_password_done": row(default=200),
    "account_reset_password_from_key_done": row(default=200),
    "account_confirm_login_code": row(default=ANY_PAGE),
    "account_confirm_email": row(kwargs=lambda w: {"key": "x"}, default=ANY_PAGE | {404}),
    "account_reset_password_from_key": row(
        kwargs=lambda w: {"uidb36": "1", "key": "bad-key"}, default=200
    ),
    "mfa_index": row(anonymous=LOGIN, default=200),
    "mfa_authenticate": row(default=ANY_PAGE),
    "mfa_reauthenticate": row(anonymous=LOGIN, default=ANY_PAGE),
    "mfa_activate_totp": row(anonymous=LOGIN, default=ANY_PAGE),
    "mfa_deactivate_totp": row(anonymous=LOGIN, default=ANY_PAGE | {404}),
    "mfa_view_recovery_codes": row(anonymous=LOGIN, default=ANY_PAGE | {404}),
    "mfa_generate_recovery_codes": row(anonymous=LOGIN, default=ANY_PAGE),
    "mfa_download_recovery_codes": row(anonymous=LOGIN, default=ANY_PAGE | {404}),
    "mfa_list_webauthn": row(anonymous=LOGIN, default=ANY_PAGE),
    "mfa_add_webauthn": row(anonymous=LOGIN, default=ANY_PAGE),
    "mfa_reauthenticate_webauthn": row(anonymous=LOGIN, default=ANY_PAGE),
    # Another user's key, or none: never 200.
    "mfa_remove_webauthn": row(
        kwargs=lambda w: {"pk": 999999}, anonymous=LOGIN, default={302, 404}
    ),
    "mfa_edit_webauthn": row(kwargs=lambda w: {"pk": 999999}, anonymous=LOGIN, default={302, 404}),
}
# The technical Django admin: superusers only; every actor here is sent to its login.
ADMIN_NAMESPACE = "admin"


def _walk(patterns: list, namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield namespace, name, str(pattern.pattern)


def served_urls() -> list[tuple[str | None, str | None, str]]:
    return list(_walk(get_resolver().url_patterns))


def test_every_url_has_a_row():
    missing = [
        (name, route)
        for namespace, name, route in served_urls()
        if namespace != ADMIN_NAMESPACE and name not in MATRIX
    ]
    assert not missing, f"URLs without a row in the access matrix: {missing}"
    stale = set(MATRIX) - {name for _, name, _ in served_urls()}
    assert not stale, f"rows for URLs that no longer exist: {stale}"


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    # Leiing must have a second factor; give the leaders one so the pages are reachable.
    for leader in (world.leadership, world.other_leadership):
        TOTP.activate(leader, "JBSWY3DPEHPK3PXP")
    users = {
        "guardian_a": world.guardian_a,
        "guardian_b": world.guardian_b,
        "guardian_without_responsibility": world.guardian_without_responsibility,
        "contact_teacher_b": world.contact_teacher_b,
        "office": world.office,
        "leadership": world.leadership,
        "school_admin": world.school_admin,
        "other_leadership": world.other_leadership,
    }
    result = {"anonymous": Client()}
    for actor, user in users.items():
        client = Client()
        client.force_login(user)
        result[actor] = client
    return result


def _matches(response: Any, expected: Any) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            reverse("account_login")
        )
    if isinstance(expected, set):
        return response.status_code in expected
    return response.status_code == expected


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(name: str, world: World, clients: dict[str, Client]):
    spec = MATRIX[name]
    url = reverse(name, kwargs=spec["kwargs"](world))
    failures = []
    for actor in ACTORS:
        response = getattr(clients[actor], spec.get("method", "get"))(url)
        if not _matches(response, spec["expected"][actor]):
            failures.append(
                f"{actor}: got {response.status_code} "
                f"{response.get('Location', '')}, expected {spec['expected'][actor]}"
            )
    assert not failures, f"{url}\n" + "\n".join(failures)


def test_admin_is_for_superusers_only(world: World, clients: dict[str, Client]):
    admin_urls = [route for namespace, _, route in served_urls() if namespace == ADMIN_NAMESPACE]
    assert admin_urls
    for actor in ACTORS:
        response = clients[actor].get(reverse("admin:index"))
        assert response.status_code == 302, actor
        assert "/admin/login/" in response["Location"], actor
