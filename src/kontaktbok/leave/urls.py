from django.urls import path

from kontaktbok.leave.views import guardian, staff

urlpatterns = [
    # Guardians
    path("children/<int:pupil_id>/", guardian.child_leave, name="leave_child"),
    path("children/<int:pupil_id>/apply/", guardian.apply, name="leave_apply"),
    path("applications/<int:application_id>/", guardian.application, name="leave_application"),
    path("applications/<int:application_id>/consent/", guardian.consent, name="leave_consent"),
    path("applications/<int:application_id>/withdraw/", guardian.withdraw, name="leave_withdraw"),
    path("applications/<int:application_id>/appeal/", guardian.appeal, name="leave_appeal"),
    path("decisions/<int:decision_id>/letter.pdf", guardian.letter, name="leave_letter"),
    path("appeals/<int:appeal_id>/case.pdf", guardian.case_pdf, name="leave_case_pdf"),
    # Staff
    path("staff/", staff.queue, name="leave_queue"),
    path("staff/applications/<int:application_id>/", staff.review, name="leave_review"),
    path("staff/applications/<int:application_id>/decide/", staff.decide, name="leave_decide"),
    path(
        "staff/applications/<int:application_id>/consent/",
        staff.record_consent,
        name="leave_record_consent",
    ),
    path(
        "staff/applications/<int:application_id>/reconsider/",
        staff.reconsider,
        name="leave_reconsider",
    ),
    path(
        "staff/applications/<int:application_id>/sent-on/",
        staff.appeal_sent_on,
        name="leave_appeal_sent_on",
    ),
    # The school admin
    path("schools/<int:school_id>/rules/", staff.rules_settings, name="leave_rules"),
]
