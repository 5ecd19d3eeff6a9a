from django.urls import path

from kontaktbok.national import views

urlpatterns = [
    path("frontchannel-logout/", views.frontchannel_logout, name="national_frontchannel_logout"),
    path("backchannel-logout/", views.backchannel_logout, name="national_backchannel_logout"),
]
