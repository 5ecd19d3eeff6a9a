"""The staff directory: what guardians see of a staff member besides the work phone and the
Teams address, which stay on ``schools.StaffMember`` (private numbers are never stored)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import StaffMember

GRADE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(10)]


class DirectoryEntry(models.Model):
    """A staff member's entry in the school's directory. A member without one is listed,
    with no office hours, for every grade."""

    member = models.OneToOneField(
        StaffMember,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="directory_entry",
    )
    office_hours = models.CharField(
        _("office hours"),
        max_length=100,
        blank=True,
        help_text=_("When guardians can call, e.g. Monday–Friday 08.00–15.30."),
    )
    listed = models.BooleanField(
        _("shown to guardians"),
        default=True,
        help_text=_("Untick to keep this person out of the guardians' contact lists."),
    )
    grade_from = models.PositiveSmallIntegerField(
        _("covers grades from"), null=True, blank=True, validators=GRADE_VALIDATORS
    )
    grade_to = models.PositiveSmallIntegerField(
        _("covers grades to"), null=True, blank=True, validators=GRADE_VALIDATORS
    )

    class Meta:
        verbose_name = _("directory entry")
        verbose_name_plural = _("directory entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(grade_from__isnull=True, grade_to__isnull=True)
                | Q(
                    grade_from__isnull=False,
                    grade_to__isnull=False,
                    grade_from__gte=1,
                    grade_to__lte=10,
                    grade_from__lte=models.F("grade_to"),
                ),
                name="directory_entry_grades_ordered",
            ),
        ]

    def __str__(self) -> str:
        return str(self.member)

    def covers_grade(self, grade: int | None) -> bool:
        """True unless the entry is limited to grades and ``grade`` is known and outside."""
        if grade is None or self.grade_from is None or self.grade_to is None:
            return True
        return self.grade_from <= grade <= self.grade_to
