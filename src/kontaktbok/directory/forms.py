from django import forms
from django.utils.translation import gettext_lazy as _

GRADES = [("", "–"), *[(grade, f"{grade}.") for grade in range(1, 11)]]


class DirectoryEntryForm(forms.Form):
    """The school admin's form for one entry. The number must be a work number: the routine
    says staff never give out private numbers."""

    work_phone = forms.CharField(
        label=_("Work phone (never a private number)"),
        help_text=_(
            "The work number tied to Teams, for example +47 57 00 00 00. Guardians see it and "
            "can call it. Never enter a private number."
        ),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    teams_address = forms.EmailField(
        label=_("Teams address"),
        help_text=_("The work account guardians call in Teams."),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    office_hours = forms.CharField(
        label=_("Office hours"),
        help_text=_("When guardians can call, e.g. Monday–Friday 08.00–15.30."),
        max_length=100,
        required=False,
    )
    listed = forms.BooleanField(label=_("Shown to guardians"), required=False)
    grade_from = forms.TypedChoiceField(
        label=_("Covers grades from"),
        help_text=_(
            "For a head of stage (hovudstegsleiar) and others who serve some grades only. "
            "Leave both empty for the whole school."
        ),
        choices=GRADES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    grade_to = forms.TypedChoiceField(
        label=_("Covers grades to"),
        choices=GRADES,
        coerce=int,
        empty_value=None,
        required=False,
    )
