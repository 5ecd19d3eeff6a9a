from allauth.urls import build_provider_urlpatterns
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from kontaktbok.accounts import views as accounts_views
from kontaktbok.api import api
from kontaktbok.core import views as core_views

urlpatterns = [
    path("", include("kontaktbok.schools.urls")),
    path("", include("kontaktbok.roster.urls")),
    path(
        "accounts/invitation/<str:token>/",
        accounts_views.invitation_accept,
        name="invitation_accept",
    ),
    path("accounts/national/", include("kontaktbok.national.urls")),
    # allauth's account and MFA pages, and the OpenID Connect login of ID-porten and Feide;
    # not its social-account pages (no account is ever connected or signed up that way).
    path("accounts/", include("allauth.account.urls")),
    path("accounts/2fa/", include("allauth.mfa.urls")),
    path("accounts/", include(build_provider_urlpatterns())),
    path(
        "schools/<int:school_id>/invitations/",
        accounts_views.invitation_list,
        name="invitation_list",
    ),
    path("notifications/", include("kontaktbok.notifications.urls")),
    path("absence/", include("kontaktbok.absence.urls")),
    path("leave/", include("kontaktbok.leave.urls")),
    path("messages/", include("kontaktbok.messaging.urls")),
    path("directory/", include("kontaktbok.directory.urls")),
    path("privacy/", include("kontaktbok.privacy.urls")),
    path("archive/", include("kontaktbok.archive.urls")),
    path("submissions/", include("kontaktbok.submissions.urls")),
    path("relaylog/", include("kontaktbok.relaylog.urls")),
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("manifest.webmanifest", core_views.manifest, name="manifest"),
    path("service-worker.js", core_views.service_worker, name="service_worker"),
    path("healthz", core_views.health, name="health"),
    path(f"{settings.ADMIN_PATH}login/", accounts_views.admin_login, name="admin_login"),
    path(settings.ADMIN_PATH, admin.site.urls),
]
