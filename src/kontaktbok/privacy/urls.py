from django.urls import path

from kontaktbok.privacy import retention_views, views

urlpatterns = [
    path("", views.home, name="privacy_home"),
    path("exports/", views.request_export, name="privacy_export_request"),
    path("exports/<int:export_id>/download", views.download, name="privacy_export_download"),
    path("retention/", retention_views.retention_table, name="retention_table"),
]
