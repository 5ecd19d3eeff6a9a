"""The guardian's form for meld fråvær (report, and change a report)."""

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kontaktbok.schools.models import AbsenceType

WHOLE_DAY = "whole"
HOURS = "hours"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class AbsenceTypeField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class AbsenceReportForm(forms.Form):
    """First and last day, the whole day or from–to, the school's type, a short comment.

    The service checks the rules (window, school days, the school's list); this form only
    parses the input, so that the same rules hold for the web and the API."""

    start_date = forms.DateField(label=_("First day"), widget=DateInput())
    end_date = forms.DateField(label=_("Last day"), widget=DateInput())
    day_part = forms.ChoiceField(
        label=_("How much of the day"),
        choices=[(WHOLE_DAY, _("The whole day")), (HOURS, _("Some hours (give the times)"))],
        initial=WHOLE_DAY,
        widget=forms.RadioSelect(attrs={"class": "ds-input"}),
    )
    start_time = forms.TimeField(label=_("From (time)"), required=False, widget=TimeInput())
    end_time = forms.TimeField(label=_("To (time)"), required=False, widget=TimeInput())
    absence_type = AbsenceTypeField(
        label=_("Type of absence"),
        queryset=AbsenceType.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect(attrs={"class": "ds-input"}),
        error_messages={"invalid_choice": _("Choose a type from the school's list.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=200,
        help_text=_("At most 200 characters. You do not need to give any health details."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 20}),
    )
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, absence_types: QuerySet[AbsenceType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["absence_type"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = absence_types
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex

    @property
    def whole_day(self) -> bool:
        return self.cleaned_data.get("day_part") != HOURS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last day cannot be before the first day."))
        if data.get("day_part") == HOURS:
            if data.get("start_time") is None or data.get("end_time") is None:
                self.add_error("start_time", _("Give the times, or choose the whole day."))
            elif data["start_time"] >= data["end_time"]:
                self.add_error("end_time", _("The end time must be after the start time."))
        return data

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned input as the service's keyword arguments."""
        data = self.cleaned_data
        whole_day = self.whole_day
        return {
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "absence_type": data["absence_type"],
            "whole_day": whole_day,
            "start_time": None if whole_day else data.get("start_time"),
            "end_time": None if whole_day else data.get("end_time"),
            "comment": data.get("comment", ""),
        }
