from django.urls import path

from kontaktbok.archive import views

urlpatterns = [
    path("deliveries/", views.deliveries, name="archive_deliveries"),
    path("deliveries/<int:delivery_id>/resend", views.resend, name="archive_delivery_resend"),
]
