from django.urls import path

from kontaktbok.roster import views

urlpatterns = [
    path("schools/<int:school_id>/roster/", views.roster_home, name="roster_home"),
    path(
        "schools/<int:school_id>/roster/template-<str:language>.csv",
        views.roster_template,
        name="roster_template",
    ),
    path("schools/<int:school_id>/year-turn/", views.year_turn, name="year_turn"),
    path(
        "schools/<int:school_id>/roster/<int:import_id>/",
        views.roster_import,
        name="roster_import",
    ),
]
