"""The user: guardians and staff alike log in as a ``User``."""

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None, password: str | None = None, **extra: Any) -> "User":
        """``email`` may be empty for a guardian the school reaches by mobile only: they log
        in nationally (ID-porten), never with a password."""
        user = self.model(email=self.normalize_email(email).lower() or None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    # None for a guardian with a mobile number only (no password login for them).
    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    full_name = models.CharField(_("full name"), max_length=200)
    phone = models.CharField(_("mobile number"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=2, blank=True)
    nin_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("may use the technical admin"),
        default=False,
        help_text=_("Access to the technical administration pages, not a school role."),
    )
    date_joined = models.DateTimeField(_("created"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else str(self)


class Invitation(models.Model):
    """A one-time link to choose a password, for an account the school made without one.
    Only the token's digest is kept; a new invitation ends the earlier ones."""

    VALID_FOR = dt.timedelta(days=7)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True)
    sent_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"))
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["user", "-sent_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.sent_at:%Y-%m-%d}"
