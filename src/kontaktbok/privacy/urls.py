from django.urls import path

from kontaktbok.privacy import retention_views

urlpatterns = [
    path("retention/", retention_views.retention_table, name="retention_table"),
]
