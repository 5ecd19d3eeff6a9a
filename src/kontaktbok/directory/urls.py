from django.urls import path

from kontaktbok.directory import views

urlpatterns = [
    path("children/<int:pupil_id>/", views.child_contacts, name="directory_child"),
    path("schools/<int:school_id>/", views.school_directory, name="directory_school"),
    path(
        "schools/<int:school_id>/staff/<int:member_id>/",
        views.entry_edit,
        name="directory_entry_edit",
    ),
]
