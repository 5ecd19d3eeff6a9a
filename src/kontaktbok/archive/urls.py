from django.urls import path

from kontaktbok.archive import views

urlpatterns = [
    path("deliveries/", views.deliveries, name="archive_deliveries"),
    path("schools/<int:school_id>/units/", views.units, name="archive_units"),
    path("deliveries/<int:delivery_id>/resend", views.resend, name="archive_delivery_resend"),
]
