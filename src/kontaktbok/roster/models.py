"""A roster import waiting for its preview to be accepted, and the source system's ids of
the people and groups it brought in (the keys a re-import syncs by)."""

import json
import zlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kontaktbok.roster.records import Rejected, Roster
from kontaktbok.schools.models import School


class RosterImport(models.Model):
    """One uploaded roster: read, previewed, and applied once (or left to expire). The file
    itself is not kept; only its records, with identity numbers as keyed digests, until
    the import is applied."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("preview")
        APPLIED = "applied", _("applied")

    school = models.ForeignKey(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+"
    )
    file_name = models.CharField(_("file"), max_length=200)
    source = models.CharField(_("format"), max_length=20)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("read"), auto_now_add=True)
    records = models.BinaryField(default=b"")
    rejected = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    details = models.JSONField(default=dict)  # names per kind of change, for the preview
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @staticmethod
    def pack(roster: Roster) -> bytes:
        return zlib.compress(json.dumps(roster.to_json()).encode(), 6)

    def roster(self) -> Roster:
        return Roster.from_json(json.loads(zlib.decompress(bytes(self.records))))

    def rejections(self) -> list[Rejected]:
        return [Rejected(**item) for item in self.rejected]

    @property
    def changes(self) -> int:
        return sum(n for name, n in self.counts.items() if name != "rejected")


class RosterKey(models.Model):
    """The source system's id of a pupil, guardian, staff member or group at a school."""

    class Kind(models.TextChoices):
        PUPIL = "pupil"
        GUARDIAN = "guardian"
        STAFF = "staff"
        GROUP = "group"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source_id = models.CharField(max_length=200)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "kind", "source_id"], name="roster_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["school", "kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_id}"
