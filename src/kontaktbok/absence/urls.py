from django.urls import path

from kontaktbok.absence.views import guardian, lookup, staff

urlpatterns = [
    # Guardians
    path("children/<int:pupil_id>/", guardian.child_absence, name="absence_child"),
    path("children/<int:pupil_id>/report/", guardian.report_create, name="absence_report_create"),
    path("reports/<int:report_id>/edit/", guardian.report_edit, name="absence_report_edit"),
    path(
        "reports/<int:report_id>/withdraw/",
        guardian.report_withdraw,
        name="absence_report_withdraw",
    ),
    path(
        "reports/<int:report_id>/restore/",
        guardian.report_restore,
        name="absence_report_restore",
    ),
    # Staff
    path("groups/<int:group_id>/register/", staff.register, name="attendance_register"),
    path("groups/<int:group_id>/check/", staff.daily_check, name="daily_check"),
    path("groups/<int:group_id>/statistics/", staff.statistics, name="absence_statistics"),
    path("pupils/<int:pupil_id>/", staff.pupil_history, name="pupil_absence_history"),
    path("schools/<int:school_id>/checks/", staff.school_status, name="school_check_status"),
    # Looking for a missing pupil (etterlysing)
    path("lookup/<int:case_id>/", lookup.case_detail, name="lookup_case"),
    path("lookup/<int:case_id>/answer/", lookup.case_answer, name="lookup_answer"),
    path("lookup/<int:case_id>/close/", lookup.case_close, name="lookup_close"),
    path("schools/<int:school_id>/lookup/", lookup.overview, name="lookup_overview"),
    path("schools/<int:school_id>/lookup/rows/", lookup.overview_rows, name="lookup_overview_rows"),
]
