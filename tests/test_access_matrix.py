"""Every URL the project serves, tried as each actor. A URL without a row fails the test,
so each new page must say who may open it. A write is sent with a valid body, so that the
actors allowed succeed and every other actor is refused (404) for lack of scope, not of
input; each actor's request runs in a savepoint rolled back after it."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kontaktbok.core import clock
from kontaktbok.notifications.services import notify
from kontaktbok.schools.models import Guardianship, StaffMember, StaffRole
from tests import factories
from tests.absence.lookup_factories import case_of_child_a2
from tests.factories import World
from tests.leave import matrix as leave
from tests.messaging import helpers as messaging
from tests.privacy import helpers as privacy
from tests.relaylog import matrix as relaylog
from tests.submissions import matrix as submissions

ACTORS = [
    "anonymous",
    "guardian_a",
    "guardian_b",
    "guardian_without_responsibility",
    # Vern's (9B, protected address) guardian, kept from him: sees nothing of him or school A.
    "restricted_guardian",
    "contact_teacher_b",
    "class_team_b",
    "teacher_b",  # a subject teacher of 9B
    "advisor",  # rådgjevar, given the role for 9B
    "social_teacher",  # sosiallærar, given the role for 9B
    "sfo_leader",  # SFO-leiar, given the role for 4A
    "last_year_teacher",  # 8B's contact teacher last year (Aksel, Vern); no role this year
    "former_office",  # kontor until yesterday, when they left the school
    "office",
    "leadership",
    "school_admin",
    "other_leadership",
]
LOGIN = "login"  # redirected to the login page
ANY_PAGE = {200, 302}
SIGNED_IN = [a for a in ACTORS if a != "anonymous"]
# Staff of school A who hold a role for 9B this year.
TEAM_9B = ["contact_teacher_b", "class_team_b"]  # contact teacher and class team
TEACHERS_9B = [*TEAM_9B, "teacher_b"]
STAFF_9B = [*TEACHERS_9B, "advisor", "social_teacher"]
SCHOOL_A_STAFF = [*STAFF_9B, "sfo_leader", "office", "leadership", "school_admin"]

Body = Callable[[World], dict[str, Any]]


def _as_last_year(expected: dict[str, Any], named: Any) -> dict[str, Any]:
    """Someone whose role has ended is staff no more: unless a row says otherwise, the
    former kontor gets what last year's teacher (no role this year) gets."""
    if "former_office" not in named:
        expected["former_office"] = expected["last_year_teacher"]
    return expected


def _scheduler_ticked() -> dict:
    """Record a scheduler tick now, as a running scheduler would; no URL arguments."""
    from kontaktbok.core import clock
    from kontaktbok.core.models import PeriodicRun

    minute = int(clock.now().timestamp() // 60)
    PeriodicRun.objects.update_or_create(name="tests.tick", defaults={"last_minute": minute})
    return {}


def row(kwargs: Callable[[World], dict[str, Any]] | None = None, **expected: Any) -> dict:
    """Expected status per actor; '*' is the default for actors not named."""
    default = expected.pop("default", None)
    return {
        "kwargs": kwargs or (lambda w: {}),
        "expected": _as_last_year(
            {actor: expected.get(actor, default) for actor in ACTORS}, named=expected
        ),
        "method": "get",
        "body": None,
        "form": False,
    }


def only(
    *allowed: str,
    anonymous: Any = LOGIN,
    kwargs=None,
    ok: Any = 200,
    no: Any = 404,
    method: str = "get",
    body: Body | None = None,
    form: bool = False,
    **other: Any,
):
    """Allowed (``ok``) for the named actors, ``no`` (404) for every other signed-in actor,
    except those given a status of their own in ``other``. ``body``: a valid request body,
    sent as JSON to the API (as form data to a page, or with ``form``)."""
    expected = {actor: ok if actor in allowed else no for actor in ACTORS}
    expected.update(other)
    expected["anonymous"] = anonymous
    expected = _as_last_year(expected, named={*allowed, *other})
    return {
        "kwargs": kwargs or (lambda w: {}),
        "expected": expected,
        "method": method,
        "body": body,
        "form": form,
    }


child_a = lambda w: {"pupil_id": w.child_a.pk}  # noqa: E731
child_a2 = lambda w: {"pupil_id": w.child_a2.pk}  # noqa: E731
class_b = lambda w: {"group_id": w.class_b.pk}  # noqa: E731
school_a = lambda w: {"school_id": w.school.pk}  # noqa: E731


def roster_import_a(w: World) -> dict[str, Any]:
    from kontaktbok.roster.models import RosterImport

    item = RosterImport.objects.create(school=w.school, file_name="elevar.csv", source="csv")
    return {"school_id": w.school.pk, "import_id": item.pk}


def a_feide_id(w: World) -> dict[str, Any]:
    return {"feide_id": "laerar@skule.no"}


def no_invitation(w: World) -> dict[str, Any]:
    return {"token": "not-a-token"}


def roster_template_nn(w: World) -> dict[str, Any]:
    return {"school_id": w.school.pk, "language": "nn"}


def teacher_b_member(w: World) -> dict[str, Any]:
    return {"member_id": StaffMember.objects.get(user=w.contact_teacher_b).pk}


def teacher_b_role(w: World) -> dict[str, Any]:
    role = StaffRole.objects.get(member__user=w.contact_teacher_b)
    return {"member_id": role.member_id, "role_id": role.pk}


def guardianship_a(w: World) -> dict[str, Any]:
    return {"guardianship_id": Guardianship.objects.get(guardian=w.guardian_a, pupil=w.child_a).pk}


def responsible(w: World) -> dict[str, Any]:
    return {"parental_responsibility": "on", "lives_with_pupil": "on"}


def a_last_day(w: World) -> dict[str, Any]:
    return {"last_day": str(clock.today())}


def guardian_a_report(w: World) -> dict[str, int]:
    """A report guardian_a made today for child_a (class 4A)."""
    from kontaktbok.absence.services import absence_report_create

    report = absence_report_create(
        actor=w.guardian_a,
        pupil_id=w.child_a.pk,
        start_date=clock.today(),
        end_date=clock.today(),
        absence_type=w.school.absence_types.get(code="sick"),
    )
    return {"report_id": report.pk}


def this_years_holiday(w: World) -> dict[str, int]:
    return {"school_id": w.school.pk, "holiday_id": w.class_a.school_year.holidays.first().pk}


def teacher_a_entry(w: World) -> dict[str, int]:
    return {"school_id": w.school.pk, "member_id": w.contact_teacher_a.staff_memberships.get().pk}


# --- request bodies: valid, so that only the actors allowed succeed ----------------------


def new_holiday(w: World) -> dict[str, str]:
    return {"name": "Planleggingsdag", "starts_on": "2027-01-04", "ends_on": "2027-01-04"}


def new_report(w: World) -> dict[str, Any]:
    """Anna (4A) is ill today."""
    today = str(clock.today())
    return {
        "pupil_id": w.child_a.pk,
        "start_date": today,
        "end_date": today,
        "absence_type": "sick",
    }


def report_comment(w: World) -> dict[str, str]:
    return {"comment": "Feber"}


def aksel_present(w: World) -> dict[str, Any]:
    return {"date": str(clock.today()), "marks": [{"pupil_id": w.child_a2.pk, "status": "present"}]}


def on_the_way(w: World) -> dict[str, str]:
    return {"answer": "on_the_way"}


def arrived(w: World) -> dict[str, str]:
    return {"outcome": "arrived"}


def push_device(w: World) -> dict[str, str]:
    return {
        "endpoint": "https://fcm.googleapis.com/fcm/send/matrix",
        "p256dh": "key",
        "auth": "secret",
    }


def office_hours(w: World) -> dict[str, str]:
    return {"office_hours": "Måndag 08.00–15.30"}


MATRIX: dict[str, dict] = {
    # Pages of the school model. Staff see the pupils and groups they hold a role for
    # (the SFO-leiar: 4A), kontor and leiing the whole school.
    "home": only(*SIGNED_IN),
    "pupil_detail": only("guardian_a", "sfo_leader", "office", "leadership", kwargs=child_a),
    # People: kontor and the school admin keep the pupils; leiing reads the list.
    "people_pupils": only("office", "leadership", "school_admin", kwargs=school_a),
    "pupil_add": only("office", "school_admin", kwargs=school_a),
    "pupil_edit": only("office", "school_admin", kwargs=child_a),
    "guardian_add": only("office", "school_admin", kwargs=child_a),
    "guardianship_change": only(
        "office", "school_admin", kwargs=guardianship_a, method="post", ok=302, body=responsible
    ),
    "pupil_leave": only(
        "office", "school_admin", kwargs=child_a, method="post", ok=302, body=a_last_day
    ),
    "staff_list": only("office", "leadership", "school_admin", kwargs=school_a),
    "staff_add": only("office", "school_admin", kwargs=school_a),
    "staff_roles": only("office", "school_admin", kwargs=teacher_b_member),
    "role_end": only(
        "office", "school_admin", kwargs=teacher_b_role, method="post", ok=302, body=a_last_day
    ),
    "guardianship_end": only(
        "office", "school_admin", kwargs=guardianship_a, method="post", ok=302, body=a_last_day
    ),
    "staff_leave": only(
        "office", "school_admin", kwargs=teacher_b_member, method="post", ok=302, body=a_last_day
    ),
    "staff_feide": only(
        "office", "school_admin", kwargs=teacher_b_member, method="post", ok=302, body=a_feide_id
    ),
    # Who has seen a child's data: the child's own guardians only.
    "roster_home": only("office", "school_admin", kwargs=school_a),
    "roster_template": only("office", "school_admin", kwargs=roster_template_nn),
    "roster_import": only("office", "school_admin", kwargs=roster_import_a),
    "year_turn": only("office", "school_admin", kwargs=school_a),
    "retention_table": only(*SIGNED_IN),
    "invitation_list": only("office", "school_admin", kwargs=school_a),
    "invitation_accept": only(*SIGNED_IN, anonymous=410, no=410, ok=410, kwargs=no_invitation),
    "pupil_reads": only("guardian_a", kwargs=child_a),
    # The guardians' numbers: the class (contact teacher, class team), kontor and leiing.
    "pupil_guardian_contacts": only(
        "contact_teacher_b", "class_team_b", "office", "leadership", kwargs=child_a2
    ),
    "group_detail": only(
        "sfo_leader", "office", "leadership", kwargs=lambda w: {"group_id": w.class_a.pk}
    ),
    "school_overview": only("office", "leadership", kwargs=school_a),
    "school_settings": only("school_admin", kwargs=school_a),
    "absence_type_create": only("school_admin", kwargs=school_a),
    "absence_type_edit": only(
        "school_admin",
        kwargs=lambda w: {"school_id": w.school.pk, "type_id": w.school.absence_types.first().pk},
    ),
    # POST only: the admin's holiday is added and redirected; unknown (404) for the rest.
    "holiday_add": only("school_admin", kwargs=school_a, method="post", ok=302, body=new_holiday),
    "holiday_remove": only("school_admin", method="post", ok=302, kwargs=this_years_holiday),
    "audit_search": only("leadership", "other_leadership"),
    # Absence, guardians: their own child's pages only.
    "absence_child": only("guardian_a", kwargs=child_a),
    "absence_report_create": only("guardian_a", kwargs=child_a),
    "absence_report_edit": only("guardian_a", kwargs=guardian_a_report),
    # POST only: the guardian's withdrawal is done and redirected.
    "absence_report_withdraw": only("guardian_a", kwargs=guardian_a_report, method="post", ok=302),
    "absence_report_restore": only("guardian_a", kwargs=guardian_a_report, method="post", ok=302),
    # Absence, staff: 9B's teachers register and see the day (a rådgjevar or sosiallærar
    # given a role for 9B does not); its contact teacher and class team mark the day checked
    # and see statistics; kontor and leiing all of it.
    "attendance_register": only(*TEACHERS_9B, "office", "leadership", kwargs=class_b),
    "daily_check": only(*TEACHERS_9B, "office", "leadership", kwargs=class_b),
    "absence_statistics": only(*TEAM_9B, "office", "leadership", kwargs=class_b),
    # Aksel is in 9B: his teachers, kontor and leiing.
    "pupil_absence_history": only(*TEACHERS_9B, "office", "leadership", kwargs=child_a2),
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
    "push_subscribe": only(*SIGNED_IN, method="post", body=push_device),
    "push_unsubscribe": only(*SIGNED_IN, method="post", ok=200),
    "notification_test": only(*SIGNED_IN, method="post", ok=302),
    "notification_failed": only("school_admin"),
    "notification_sink": only("school_admin"),
    # JSON API: 401 without a session.
    "api-1:me": only(*SIGNED_IN, anonymous=401),
    "api-1:pupils": only(*SIGNED_IN, anonymous=401),
    "api-1:groups": only(*SIGNED_IN, anonymous=401),
    "api-1:pupil": only(
        "guardian_a", "sfo_leader", "office", "leadership", anonymous=401, kwargs=child_a
    ),
    # Absence API.
    "api-1:report_create": only(
        "guardian_a", anonymous=401, method="post", ok=201, body=new_report
    ),
    "api-1:report_list": only(*SIGNED_IN, anonymous=401),
    "api-1:report_update": only(
        "guardian_a", anonymous=401, kwargs=guardian_a_report, method="patch", body=report_comment
    ),
    "api-1:report_withdraw": only(
        "guardian_a", anonymous=401, kwargs=guardian_a_report, method="post"
    ),
    "api-1:day_sheet": only(*TEACHERS_9B, "office", "leadership", anonymous=401, kwargs=class_b),
    "api-1:attendance_register": only(
        *TEACHERS_9B,
        "office",
        "leadership",
        anonymous=401,
        kwargs=class_b,
        method="put",
        body=aksel_present,
    ),
    "api-1:daily_check": only(
        *TEAM_9B, "office", "leadership", anonymous=401, kwargs=class_b, method="post"
    ),
    # Lookup (etterlysing): rows below this line.
    # Guardians answer their own child's case; the case's staff (9B's contact teacher and
    # class team, kontor, leiing) follow and close it; kontor and leiing see the school's
    # overview.
    "lookup_case": only("guardian_a", *TEAM_9B, "office", "leadership", kwargs=case_of_child_a2),
    "lookup_answer": only(
        "guardian_a", kwargs=case_of_child_a2, method="post", ok=302, body=on_the_way
    ),
    "lookup_close": only(
        *TEAM_9B,
        "office",
        "leadership",
        kwargs=case_of_child_a2,
        method="post",
        ok=302,
        body=arrived,
    ),
    "lookup_overview": only("office", "leadership", kwargs=school_a),
    "lookup_overview_rows": only("office", "leadership", kwargs=school_a),
    # Leave (permisjon): rows below this line.
    # Guardians: their own child's applications only (Aksel, 9B, is guardian_a's).
    "leave_child": only("guardian_a", kwargs=child_a),
    "leave_apply": only("guardian_a", kwargs=child_a),
    "leave_application": only("guardian_a", kwargs=leave.application),
    # POST only: guardian_b, asked, agrees; guardian_a, who applied, is told they are not
    # asked; both are redirected.
    "leave_consent": only(
        "guardian_a",
        "guardian_b",
        kwargs=leave.awaiting_guardian_b,
        method="post",
        ok=302,
        body=leave.agree_form,
    ),
    "leave_withdraw": only("guardian_a", kwargs=leave.application, method="post", ok=302),
    "leave_appeal": only(
        "guardian_a", kwargs=leave.decided, method="post", ok=302, body=leave.appeal_text
    ),
    # The letter: the guardians and the staff who see the case.
    "leave_letter": only(
        "guardian_a", "contact_teacher_b", "office", "leadership", kwargs=leave.letter
    ),
    # Staff: 9B's contact teacher, kontor and leiing; kontor reads but does not decide.
    "leave_queue": only("contact_teacher_b", "office", "leadership", "other_leadership"),
    "leave_review": only("contact_teacher_b", "office", "leadership", kwargs=leave.application),
    "leave_decide": only(
        "contact_teacher_b",
        "leadership",
        kwargs=leave.application,
        method="post",
        ok=302,
        body=leave.decline_decision,
    ),
    # Vern's restricted guardian agreed on paper: the school records it.
    "leave_record_consent": only(
        "contact_teacher_b",
        "office",
        "leadership",
        kwargs=leave.awaiting_restricted,
        method="post",
        ok=302,
        body=leave.restricted_consent_form,
    ),
    "leave_reconsider": only(
        "contact_teacher_b",
        "leadership",
        kwargs=leave.appealed,
        method="post",
        ok=302,
        body=leave.uphold_form,
    ),
    # The case of an upheld appeal: the guardians' copy, and the staff who see the case.
    "leave_case_pdf": only(
        "guardian_a", "contact_teacher_b", "office", "leadership", kwargs=leave.case
    ),
    "leave_appeal_sent_on": only(
        "contact_teacher_b", "leadership", kwargs=leave.upheld, method="post", ok=302
    ),
    "leave_rules": only("school_admin", kwargs=school_a),
    # Leave API.
    "api-1:leave_application_create": only(
        "guardian_a", anonymous=401, method="post", ok=201, body=leave.new_application
    ),
    "api-1:leave_application_list": only(*SIGNED_IN, anonymous=401),
    "api-1:leave_application_detail": only(
        "guardian_a",
        "contact_teacher_b",
        "office",
        "leadership",
        anonymous=401,
        kwargs=leave.application,
    ),
    # guardian_b, asked, agrees; guardian_a applied and is not asked: refused (422). That
    # Vern's restricted guardian cannot answer is in tests/leave/test_services.py.
    "api-1:leave_consent_answer": only(
        "guardian_b",
        anonymous=401,
        kwargs=leave.awaiting_guardian_b,
        method="post",
        body=leave.agree,
        guardian_a=422,
    ),
    "api-1:leave_application_withdraw": only(
        "guardian_a", anonymous=401, kwargs=leave.application, method="post"
    ),
    "api-1:leave_appeal_create": only(
        "guardian_a",
        anonymous=401,
        kwargs=leave.decided,
        method="post",
        ok=201,
        body=leave.appeal_text,
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
        "contact_teacher_b",
        "office",
        "leadership",
        anonymous=401,
        kwargs=leave.awaiting_restricted,
        method="post",
        body=leave.restricted_consent,
    ),
    "api-1:leave_decide": only(
        "contact_teacher_b",
        "leadership",
        anonymous=401,
        kwargs=leave.application,
        method="post",
        ok=201,
        body=leave.decline_decision,
    ),
    "api-1:leave_appeal_reconsider": only(
        "contact_teacher_b",
        "leadership",
        anonymous=401,
        kwargs=leave.appealed,
        method="post",
        body=leave.uphold,
    ),
    "api-1:leave_appeal_sent_on": only(
        "contact_teacher_b", "leadership", anonymous=401, kwargs=leave.upheld, method="post"
    ),
    # Messages (meldingar): rows below this line.
    "messaging_inbox": only(*SIGNED_IN),
    "messaging_compose": only("guardian_a", kwargs=child_a),
    "messaging_compose_family": only(*STAFF_9B, "office", "leadership", kwargs=child_a2),
    # Staff with a group of their own, and those who see a whole school.
    "messaging_broadcast": only(
        *STAFF_9B, "sfo_leader", "office", "leadership", "other_leadership"
    ),
    "messaging_broadcast_detail": only("contact_teacher_b", kwargs=messaging.matrix_broadcast),
    # A thread of guardian_a and Aksel's contact teacher: those two only.
    "messaging_thread": only("guardian_a", "contact_teacher_b", kwargs=messaging.matrix_thread),
    # POST only: staff on the thread add kontor.
    "messaging_participant_add": only(
        "contact_teacher_b",
        method="post",
        ok=302,
        kwargs=messaging.matrix_thread,
        body=messaging.matrix_add_office_form,
    ),
    "messaging_archive": only(
        "guardian_a",
        "contact_teacher_b",
        method="post",
        ok=302,
        kwargs=messaging.matrix_thread,
    ),
    "messaging_attachment": only("guardian_a", "contact_teacher_b", kwargs=messaging.matrix_file),
    "messaging_settings": only("school_admin", kwargs=school_a),
    # Messages API.
    "api-1:message_thread_list": only(*SIGNED_IN, anonymous=401),
    # About Aksel: his guardian, and staff who see him, start a thread.
    "api-1:message_thread_create": only(
        "guardian_a",
        *STAFF_9B,
        "office",
        "leadership",
        anonymous=401,
        method="post",
        ok=201,
        body=messaging.matrix_new_thread,
    ),
    "api-1:message_thread_detail": only(
        "guardian_a", "contact_teacher_b", anonymous=401, kwargs=messaging.matrix_thread
    ),
    # A multipart form, as the app sends it with files.
    "api-1:message_reply_create": only(
        "guardian_a",
        "contact_teacher_b",
        anonymous=401,
        method="post",
        ok=201,
        kwargs=messaging.matrix_thread,
        body=messaging.matrix_reply,
        form=True,
    ),
    "api-1:message_thread_mark_read": only(
        "guardian_a",
        "contact_teacher_b",
        anonymous=401,
        method="post",
        ok=204,
        kwargs=messaging.matrix_thread,
    ),
    "api-1:message_thread_archive": only(
        "guardian_a",
        "contact_teacher_b",
        anonymous=401,
        method="post",
        ok=204,
        kwargs=messaging.matrix_thread,
        body=messaging.matrix_archive,
    ),
    "api-1:message_participant_add": only(
        "contact_teacher_b",
        anonymous=401,
        method="post",
        ok=201,
        kwargs=messaging.matrix_thread,
        body=messaging.matrix_add_office,
    ),
    "api-1:message_attachment_download": only(
        "guardian_a", "contact_teacher_b", anonymous=401, kwargs=messaging.matrix_file
    ),
    # Aksel (9B): his guardian chooses roles; staff who see him see his guardians.
    "api-1:message_recipients": only(
        "guardian_a", *STAFF_9B, "office", "leadership", anonymous=401, kwargs=child_a2
    ),
    # Only the caller's own groups are counted; others get zero families.
    "api-1:message_broadcast_preview": only(*SIGNED_IN, anonymous=401),
    # To 9B's guardians: staff of 9B, kontor and leiing.
    "api-1:message_broadcast_create": only(
        *STAFF_9B,
        "office",
        "leadership",
        anonymous=401,
        method="post",
        ok=201,
        body=messaging.matrix_new_broadcast,
    ),
    "api-1:message_broadcast_detail": only(
        "contact_teacher_b", anonymous=401, kwargs=messaging.matrix_broadcast
    ),
    # Staff directory: rows below this line.
    # Guardians: their own child's contacts. Staff: the directory of the school where they
    # work this year; the school admin changes an entry.
    "directory_child": only("guardian_a", kwargs=child_a),
    "directory_school": only(*SCHOOL_A_STAFF, kwargs=school_a),
    "directory_entry_edit": only("school_admin", kwargs=teacher_a_entry),
    "api-1:directory_child_contacts": only("guardian_a", anonymous=401, kwargs=child_a),
    "api-1:directory_school": only(*SCHOOL_A_STAFF, anonymous=401, kwargs=school_a),
    "api-1:directory_entry_update": only(
        "school_admin", anonymous=401, method="patch", kwargs=teacher_a_entry, body=office_hours
    ),
    # My data: everyone signed in asks for a copy of their own data; a copy is downloaded
    # by its owner only.
    "privacy_home": only(*SIGNED_IN),
    "privacy_export_request": only(*SIGNED_IN, method="post", ok=302),
    "privacy_export_download": only("guardian_a", kwargs=privacy.matrix_export),
    # Secure submissions: any citizen signed in writes one; the draft and the receipt are
    # the sender's own. The archive deliveries page: the school admin of the unit's school.
    "submission_new": only(*SIGNED_IN),
    "submission_confirm": only("guardian_a", kwargs=submissions.guardian_a_draft),
    "submission_receipt": only("guardian_a", kwargs=submissions.guardian_a_submission),
    "archive_deliveries": only("school_admin", kwargs=submissions.units_at_school_a),
    "archive_units": only("school_admin", kwargs=school_a),
    "archive_delivery_resend": only(
        "school_admin", method="post", ok=302, kwargs=submissions.failed_delivery_at_school_a
    ),
    # Relay logs (stafettlogg): only the participants of Vern's log (the rådgjevar, who
    # holds the baton, and guardian B) reach it; leiing, kontor, the contact teacher and
    # the restricted guardian get 404 on every URL. Leiing sees a count without names.
    "relaylog_home": only(*SIGNED_IN),
    "relaylog_create": only("leadership", "other_leadership"),
    "relaylog_counts": only("leadership", kwargs=school_a),
    "relaylog_creators": only("leadership", kwargs=school_a),
    # A join link is its own key: an unknown (or used, or too old) one says so to everyone.
    "relaylog_join": row(kwargs=no_invitation, default=410),
    "relaylog_detail": only("advisor", "guardian_b", kwargs=relaylog.active),
    "relaylog_consent": only("guardian_b", kwargs=relaylog.draft),
    "relaylog_consent_paper": only("advisor", kwargs=relaylog.active),
    "relaylog_consent_withdraw": only(
        "advisor", "guardian_b", kwargs=relaylog.base_consent, method="post", ok=302
    ),
    "relaylog_invite": only("advisor", kwargs=relaylog.active),
    "relaylog_entry_add": only(
        "advisor",
        "guardian_b",
        kwargs=relaylog.active,
        method="post",
        ok=302,
        body=relaylog.an_entry,
    ),
    "relaylog_attachment": only("advisor", "guardian_b", kwargs=relaylog.attachment),
    "relaylog_plan": only("advisor", kwargs=relaylog.active),
    "relaylog_handover": only(
        "advisor", kwargs=relaylog.active, method="post", ok=302, body=relaylog.to_nurse
    ),
    "relaylog_handover_answer": only(
        "advisor", kwargs=relaylog.handover, method="post", ok=302, body=relaylog.decline
    ),
    "relaylog_level": only(
        "advisor", kwargs=relaylog.active, method="post", ok=302, body=relaylog.level_2
    ),
    "relaylog_reads": only("advisor", "guardian_b", kwargs=relaylog.active),
    "relaylog_close": only("advisor", "guardian_b", kwargs=relaylog.active),
    "relaylog_document": only("advisor", "guardian_b", kwargs=relaylog.closed),
    "api-1:relaylog_list": only(*SIGNED_IN, anonymous=401),
    "api-1:relaylog_detail": only("advisor", "guardian_b", anonymous=401, kwargs=relaylog.active),
    "api-1:relaylog_entry_add": only(
        "advisor",
        "guardian_b",
        anonymous=401,
        method="post",
        ok=201,
        kwargs=relaylog.active,
        body=relaylog.an_entry,
    ),
    "api-1:openapi-json": row(default=200),
    "api-1:api-root": row(default=404),
    # Public plumbing.
    "manifest": row(default=200),
    "service_worker": row(default=200),
    # Public to all; 200 while the scheduler ticks (no scheduler runs in the tests).
    "health": row(kwargs=lambda w: _scheduler_ticked(), default=200),
    "set_language": row(default=302),
    # Accounts (allauth): one's own account only; sign-up is closed.
    "account_login": row(anonymous=200, default=302),
    # The admin's login sends to the app's; the signed-in who are no superusers are refused.
    "admin_login": row(anonymous=LOGIN, default=403),
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
    # National login (ID-porten, Feide): the login start confirms on GET and, with no
    # provider configured in the tests, is not found; the callback without state is
    # refused; the provider's logout calls need a known issuer and sid, or a signed token.
    "openid_connect_login": row(kwargs=lambda w: {"provider_id": "idporten"}, default=404),
    "openid_connect_callback": row(kwargs=lambda w: {"provider_id": "idporten"}, default=404),
    "national_frontchannel_logout": row(default=400),
    "national_backchannel_logout": {
        **row(default=400),
        "method": "post",
        "body": lambda w: {"logout_token": "x.y.z"},
    },
    # Going on as a citizen needs a valid ID-porten login of this session kept a few
    # minutes: without one it is refused for everyone, whoever is logged in.
    "national_citizen_login": {**row(default=403), "method": "post", "body": lambda w: {}},
    # Passkey login: the browser's script fetches its options; a page visit goes to login.
    "mfa_login_webauthn": row(default=302),
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
def world(world: World) -> World:
    """The shared test world with every kind of staff (``factories.every_role``)."""
    return factories.every_role(world)


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    """A signed-in client per actor (also used by the query budgets, with the plain world)."""
    if world.last_year_teacher is None:
        world = factories.every_role(world)
    result = {"anonymous": Client()}
    for actor in SIGNED_IN:
        client = Client()
        client.force_login(getattr(world, actor))
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


def _never_shown(world: World) -> dict[str, list[str]]:
    """What an actor must never be shown, on any page they may open: the restricted guardian
    nothing of Vern (protected address) or of his school; last year's teacher nothing of
    this year's pupils who were in their class; the kontor who left, nothing of any pupil."""
    vern, aksel = world.protected_child, world.child_a2
    return {
        "restricted_guardian": [vern.last_name, world.school.name],
        "last_year_teacher": [vern.last_name, aksel.last_name],
        "former_office": [vern.last_name, aksel.last_name, world.child_a.last_name],
    }


def _send(client: Client, spec: dict, name: str, url: str, body: dict | None) -> Any:
    send = getattr(client, spec["method"])
    if body is None:
        return send(url)
    if name.startswith("api-1:") and not spec["form"]:
        return send(url, data=body, content_type="application/json")
    return send(url, body)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(name: str, world: World, clients: dict[str, Client]):
    spec = MATRIX[name]
    url = reverse(name, kwargs=spec["kwargs"](world))
    body = spec["body"](world) if spec["body"] else None
    never_shown = _never_shown(world)
    failures = []
    for actor in ACTORS:
        # Each actor starts from the same state: a withdrawal or a decision succeeds once.
        with transaction.atomic():
            response = _send(clients[actor], spec, name, url, body)
            transaction.set_rollback(True)
        if not _matches(response, spec["expected"][actor]):
            failures.append(
                f"{actor}: got {response.status_code} "
                f"{response.get('Location', '')}, expected {spec['expected'][actor]}"
            )
        if response.status_code == 200 and not getattr(response, "streaming", False):
            content = response.content.decode(errors="replace")
            for word in never_shown.get(actor, []):
                if re.search(rf"\b{re.escape(word)}\b", content):
                    failures.append(f"{actor}: shown {word!r}")
    assert not failures, f"{url}\n" + "\n".join(failures)


def test_admin_is_for_superusers_only(world: World, clients: dict[str, Client]):
    admin_urls = [route for namespace, _, route in served_urls() if namespace == ADMIN_NAMESPACE]
    assert admin_urls
    for actor in ACTORS:
        response = clients[actor].get(reverse("admin:index"))
        assert response.status_code == 302, actor
        assert "/admin/login/" in response["Location"], actor
