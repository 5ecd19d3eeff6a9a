from django.urls import path

from kontaktbok.submissions import views

urlpatterns = [
    path("new/", views.new, name="submission_new"),
    path("<uuid:draft_id>/confirm/", views.confirm, name="submission_confirm"),
    path("<uuid:submission_id>/", views.receipt, name="submission_receipt"),
]
