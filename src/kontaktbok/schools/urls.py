from django.urls import path

from kontaktbok.schools import people_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("pupils/<int:pupil_id>/", views.pupil_detail, name="pupil_detail"),
    path("pupils/<int:pupil_id>/reads/", views.pupil_reads, name="pupil_reads"),
    path(
        "pupils/<int:pupil_id>/guardians/",
        views.pupil_guardian_contacts,
        name="pupil_guardian_contacts",
    ),
    path("groups/<int:group_id>/", views.group_detail, name="group_detail"),
    path("schools/<int:school_id>/", views.school_overview, name="school_overview"),
    path("schools/<int:school_id>/settings/", views.school_settings, name="school_settings"),
    path(
        "schools/<int:school_id>/absence-types/new/",
        views.absence_type_edit,
        name="absence_type_create",
    ),
    path(
        "schools/<int:school_id>/absence-types/<int:type_id>/",
        views.absence_type_edit,
        name="absence_type_edit",
    ),
    path("schools/<int:school_id>/holidays/", views.holiday_add, name="holiday_add"),
    path(
        "schools/<int:school_id>/holidays/<int:holiday_id>/remove/",
        views.holiday_remove,
        name="holiday_remove",
    ),
    path("schools/<int:school_id>/pupils/", people_views.people_pupils, name="people_pupils"),
    path("schools/<int:school_id>/pupils/new/", people_views.pupil_add, name="pupil_add"),
    path("pupils/<int:pupil_id>/edit/", people_views.pupil_edit, name="pupil_edit"),
    path("pupils/<int:pupil_id>/leave/", people_views.pupil_leave, name="pupil_leave"),
    path("pupils/<int:pupil_id>/guardians/new/", people_views.guardian_add, name="guardian_add"),
    path(
        "guardianships/<int:guardianship_id>/",
        people_views.guardianship_change,
        name="guardianship_change",
    ),
    path(
        "guardianships/<int:guardianship_id>/end/",
        people_views.guardianship_end,
        name="guardianship_end",
    ),
    path("schools/<int:school_id>/staff/", people_views.staff_list, name="staff_list"),
    path("staff/<int:member_id>/leave/", people_views.staff_leave, name="staff_leave"),
    path("staff/<int:member_id>/feide/", people_views.staff_feide, name="staff_feide"),
    path("schools/<int:school_id>/staff/new/", people_views.staff_add, name="staff_add"),
    path("staff/<int:member_id>/roles/", people_views.staff_roles, name="staff_roles"),
    path("staff/<int:member_id>/roles/<int:role_id>/end/", people_views.role_end, name="role_end"),
    path("audit/", views.audit_search, name="audit_search"),
]
