import datetime as dt
from typing import Any

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.identity import is_valid_nin
from kontaktbok.schools.models import AbsenceType, Group, School, StaffRole
from kontaktbok.schools.services import SETTINGS_FIELDS


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class SchoolSettingsForm(forms.ModelForm):
    escalation_minutes = forms.IntegerField(
        label=School._meta.get_field("escalation_minutes").verbose_name,
        help_text=School._meta.get_field("escalation_minutes").help_text,
        min_value=30,
        max_value=45,
    )

    class Meta:
        model = School
        fields = SETTINGS_FIELDS
        widgets = {
            name: TimeInput()
            for name in SETTINGS_FIELDS
            if name.endswith(("_deadline", "_start", "_end")) or name.startswith("lookup_time")
        }

    def validate_constraints(self) -> None:
        """Left to the service, which checks what changed with a clear message per field
        (the database enforces the constraints as well); each check here is a query."""


class AbsenceTypeForm(forms.ModelForm):
    class Meta:
        model = AbsenceType
        fields = ("code", "name_nn", "name_nb", "name_en", "counted_in_hours", "active", "position")
        help_texts = {"code": _("A short technical name: letters, digits, - and _.")}


class HolidayForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # On the settings page beside SchoolSettingsForm, whose "name" has the id "id_name".
        kwargs.setdefault("auto_id", "holiday_%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["starts_on"] > data["ends_on"]:
            raise forms.ValidationError(_("The start date must come before the end date."))
        return data


# The audit log has nothing before the product existed nor far ahead; dates at the ends of
# the calendar cannot even be turned into a time of day in Oslo.
AUDIT_DATES = [
    validators.MinValueValidator(dt.date(2000, 1, 1)),
    validators.MaxValueValidator(dt.date(2999, 12, 31)),
]


class AuditSearchForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), max_length=100, required=False)
    actor = forms.CharField(label=_("Done by (name or e-mail)"), max_length=200, required=False)
    object_type = forms.CharField(label=_("Object type"), max_length=60, required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        validators=AUDIT_DATES,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        validators=AUDIT_DATES,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date must come before the end date."))
        return data


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class PupilForm(forms.Form):
    """A pupil as kontor adds or changes them; the identity number only when added (it is
    kept as a keyed digest and never shown again)."""

    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    nin = forms.CharField(
        label=_("National identity number (optional)"),
        required=False,
        max_length=11,
        help_text=_("11 digits. Kept only in a form that cannot be read back."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    class_group = GroupChoiceField(
        label=_("Class"), queryset=Group.objects.none(), required=False, empty_label=_("No class")
    )
    protected_address = forms.BooleanField(
        label=_("Protected address (sperra adresse)"),
        required=False,
        help_text=_("Needs a login with your second factor."),
    )

    def __init__(self, *args: Any, classes: list[Group], adding: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["class_group"]
        assert isinstance(field, GroupChoiceField)
        field.queryset = Group.objects.filter(pk__in=[g.pk for g in classes])
        if not adding:
            del self.fields["nin"]

    def clean_nin(self) -> str:
        value = "".join(self.cleaned_data.get("nin", "").split())
        if value and not is_valid_nin(value):
            raise forms.ValidationError(_("This is not a valid national identity number."))
        return value


class GuardianForm(forms.Form):
    """A guardian kontor adds to a pupil: a person known by the e-mail address is linked."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"))
    phone = forms.CharField(
        label=_("Mobile number (optional)"),
        required=False,
        max_length=30,
        help_text=_("With the country code if it is not Norwegian, e.g. +46 70 123 45 67."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    parental_responsibility = forms.BooleanField(
        label=_("Parental responsibility (foreldreansvar)"), required=False, initial=True
    )
    lives_with_pupil = forms.BooleanField(
        label=_("Lives with the pupil"), required=False, initial=True
    )
    restricted = forms.BooleanField(
        label=_("Restricted: must not learn where a pupil with a protected address is"),
        required=False,
        help_text=_("Needs a login with your second factor."),
    )


class StaffForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Work e-mail address"))
    title = forms.CharField(
        label=_("Title (optional)"),
        required=False,
        max_length=60,
        help_text=_("As the school calls it, e.g. Kontaktlærar 4A or Rektor."),
    )
    work_phone = forms.CharField(
        label=_("Work phone (optional)"),
        required=False,
        max_length=30,
        help_text=_("Never a private number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=StaffRole.Role.choices)
    group = GroupChoiceField(
        label=_("Group (for a role in one group)"),
        queryset=Group.objects.none(),
        required=False,
        empty_label=_("The whole school"),
    )
    starts_on = forms.DateField(
        label=_("From (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, groups: list[Group], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "role_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, GroupChoiceField)
        field.queryset = Group.objects.filter(pk__in=[g.pk for g in groups])
