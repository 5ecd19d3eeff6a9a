from django.urls import path

from kontaktbok.messaging import views

urlpatterns = [
    path("", views.inbox, name="messaging_inbox"),
    path("children/<int:pupil_id>/new/", views.compose_guardian, name="messaging_compose"),
    path("pupils/<int:pupil_id>/new/", views.compose_staff, name="messaging_compose_family"),
    path("groups/new/", views.broadcast, name="messaging_broadcast"),
    path(
        "groups/<int:broadcast_id>/",
        views.broadcast_detail,
        name="messaging_broadcast_detail",
    ),
    path("<int:thread_id>/", views.thread_detail, name="messaging_thread"),
    path(
        "<int:thread_id>/participants/",
        views.participant_add,
        name="messaging_participant_add",
    ),
    path("<int:thread_id>/archive/", views.archive, name="messaging_archive"),
    path(
        "attachments/<int:attachment_id>/",
        views.attachment,
        name="messaging_attachment",
    ),
    path("schools/<int:school_id>/settings/", views.settings_page, name="messaging_settings"),
]
