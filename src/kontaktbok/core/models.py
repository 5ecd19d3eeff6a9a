"""The append-only audit log."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        # Retention (to come) will delete whole sealed days through one explicit path of its
        # own, which the triggers must let through (see migration 0005); not through here.
        raise PermissionError("The audit log is append-only.")


class AuditEntry(models.Model):
    """One sensitive action or read: who, in which role, what, on which object, when."""

    action = models.CharField(_("action"), max_length=100, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=40, blank=True)
    school_id = models.BigIntegerField(_("school"), null=True, blank=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # The pupil the entry is about (the object itself, or the pupil of a report, a case,
    # an application): what "who has seen my child's data" is read by.
    pupil_id = models.BigIntegerField(_("pupil"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)
    # The seal (``core/audit_seal.py``), set once after commit: the row's place in its
    # school day's hash chain. The triggers allow exactly this one change to a row.
    seal = models.CharField(_("seal"), max_length=64, blank=True, default="")
    seal_day = models.DateField(_("sealed in the chain of"), null=True, blank=True)
    seal_seq = models.PositiveIntegerField(_("place in the chain"), null=True, blank=True)
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    # ``actor_id`` as it was sealed: the account may be deleted later (``actor_id`` then
    # becomes NULL), and the seal must still be checkable.
    sealed_actor_id = models.BigIntegerField(_("actor (as sealed)"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["school_id", "-created_at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["pupil_id", "-created_at"], name="core_audit_pupil_time"),
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(seal=""),
                name="core_audit_unsealed",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["seal_day", "seal_seq"], name="core_audit_chain_place"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class PeriodicRun(models.Model):
    """The scheduler's memory of one periodic task: the last minute a tick considered it.

    A tick runs the task when a minute it is due on lies between that and now, so a missed
    minute (a restart, a slow tick) is caught up on the next tick instead of skipped. The
    newest ``last_minute`` of all rows is the scheduler's last tick, shown in ``/healthz``."""

    name = models.CharField(_("task"), max_length=200, unique=True)
    last_minute = models.BigIntegerField(_("last tick (minutes since 1970)"))

    class Meta:
        verbose_name = _("periodic task")
        verbose_name_plural = _("periodic tasks")

    def __str__(self) -> str:
        return self.name
