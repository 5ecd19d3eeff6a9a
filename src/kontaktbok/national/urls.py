from django.urls import path

from kontaktbok.national import views

urlpatterns = [
    path("frontchannel-logout/", views.frontchannel_logout, name="national_frontchannel_logout"),
    path("citizen/", views.citizen_login, name="national_citizen_login"),
    path("backchannel-logout/", views.backchannel_logout, name="national_backchannel_logout"),
]
