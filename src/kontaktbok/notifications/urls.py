from django.urls import path

from kontaktbok.notifications import views

urlpatterns = [
    path("", views.inbox, name="notification_inbox"),
    path("<int:notification_id>/", views.open_notification, name="notification_open"),
    path("read-all/", views.mark_all_read, name="notification_mark_all_read"),
    path("badge/", views.unread_badge, name="notification_badge"),
    path("settings/", views.notification_settings, name="notification_settings"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("test/", views.send_test, name="notification_test"),
    path("failed/", views.failed, name="notification_failed"),
    path("sink/", views.sink, name="notification_sink"),
]
