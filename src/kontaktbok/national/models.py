"""Which local sessions a national login's session (``sid``) started, so that the
provider's front- and back-channel logout can end every one of them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NationalSession(models.Model):
    provider = models.CharField(_("login"), max_length=20)
    sid = models.CharField(max_length=255)
    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="national_sessions"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("national login session")
        verbose_name_plural = _("national login sessions")
        indexes = [models.Index(fields=["provider", "sid"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.created_at:%Y-%m-%d %H:%M}"
