from django.urls import path

from kontaktbok.relaylog import views

urlpatterns = [
    path("", views.home, name="relaylog_home"),
    path("new/", views.create, name="relaylog_create"),
    path("join/<str:token>/", views.join, name="relaylog_join"),
    path("schools/<int:school_id>/counts/", views.counts, name="relaylog_counts"),
    path("schools/<int:school_id>/creators/", views.creators, name="relaylog_creators"),
    path("<int:log_id>/", views.detail, name="relaylog_detail"),
    path("<int:log_id>/consent/", views.consent, name="relaylog_consent"),
    path("<int:log_id>/consent/paper/", views.consent_paper, name="relaylog_consent_paper"),
    path(
        "<int:log_id>/consent/<int:consent_id>/withdraw/",
        views.consent_withdraw,
        name="relaylog_consent_withdraw",
    ),
    path("<int:log_id>/participants/", views.invite, name="relaylog_invite"),
    path("<int:log_id>/entries/", views.entry_add, name="relaylog_entry_add"),
    path(
        "<int:log_id>/files/<uuid:attachment_uuid>/",
        views.attachment,
        name="relaylog_attachment",
    ),
    path("<int:log_id>/plan/", views.plan, name="relaylog_plan"),
    path("<int:log_id>/baton/", views.handover, name="relaylog_handover"),
    path(
        "<int:log_id>/baton/<int:handover_id>/",
        views.handover_answer,
        name="relaylog_handover_answer",
    ),
    path("<int:log_id>/level/", views.level, name="relaylog_level"),
    path("<int:log_id>/reads/", views.reads, name="relaylog_reads"),
    path("<int:log_id>/close/", views.close, name="relaylog_close"),
    path("<int:log_id>/document/", views.document, name="relaylog_document"),
]
